package dev.dialer.dispatcher.command;

import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.dispatcher.pacing.OffsetWindow;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One {@code dialer.carrier.callbacks} partition's records, applied: each caller ID's callbacks one after another,
 * which keeps each call's statuses in order (a call has one caller ID), and the partition's caller IDs spread by hash
 * over {@code streams} streams applied side by side.
 *
 * <p>Applied strictly one after another, a partition's callbacks each waited for the statements of all before it:
 * under load the application fell behind the dials, a call's trunk slot stayed held seconds after the call ended, and
 * the trunk's concurrency bound a dispatcher that could have dialled more (and its lanes parked the rest).
 *
 * <p>Records are acknowledged in offset order whatever order they are applied in ({@link OffsetWindow}): a committed
 * offset never passes a callback not yet applied. Memory is bounded as in the lanes: records are taken in as they
 * arrive and counted, and at {@code high} waiting the partition stops fetching until half of them are applied (the
 * rest wait in Kafka).
 */
final class CallbackPartition {

    private final int streams;
    private final int high;
    private final Runnable pause;
    private final Runnable resume;
    // Counted, switched and acknowledged under one lock: a pause and the resume after it reach the consumer in that
    // order, and the window sees one thread at a time.
    private final Object lock = new Object();
    private final OffsetWindow window = new OffsetWindow();
    private final Predicate<InboundRecord> stale;
    private int waiting;
    private boolean paused;

    /**
     * @param streams how many caller IDs' callbacks are applied at once (1: strictly one after another)
     * @param high    records waiting at which the partition stops fetching
     * @param pause   stops the partition's fetching
     * @param resume  resumes it
     */
    CallbackPartition(int streams, int high, Runnable pause, Runnable resume) {
        this(streams, high, pause, resume, record -> false);
    }

    /**
     * @param stale whether a record was fetched before the partition's last revocation
     *              ({@code PartitionFlow#fetchedBeforeRevocation})
     */
    CallbackPartition(int streams, int high, Runnable pause, Runnable resume, Predicate<InboundRecord> stale) {
        this.stale = stale;
        this.streams = streams;
        this.high = high;
        this.pause = pause;
        this.resume = resume;
    }

    /**
     * Applies the partition's records with {@code handle}, which acknowledges each record once applied. One whose
     * turn comes after the partition was revoked is not applied here: its partition's owner reads it again from the
     * last commit and applies it, and a second applying here, late, could undo what the owner applied since (a later
     * answering-machine result overwritten by an earlier one).
     */
    Flux<Void> apply(Flux<InboundRecord> records, Function<InboundRecord, Mono<Void>> handle) {
        return records
                .mapNotNull(this::admitted)
                .groupBy(record -> Math.floorMod(Objects.hashCode(record.key()), streams), Integer.MAX_VALUE)
                .flatMap(stream -> stream.concatMap(record -> Mono.defer(() -> stale.test(record) ? Mono.<Void>empty()
                                : handle.apply(record)).doFinally(signal -> applied()), Integer.MAX_VALUE), streams);
    }

    /**
     * The partition was revoked: the records being applied acknowledge nothing any more (the partition's next owner,
     * this dispatcher again perhaps, reads them again from the last commit), and those delivered from now on are
     * tracked afresh, so an old record finishing late never acknowledges past a new one.
     */
    void revoke() {
        synchronized (lock) {
            window.clear();
        }
    }

    /**
     * The partition was assigned to this dispatcher again. The consumer that holds it now may not hold the pause made
     * before (one created after a failure fetches every partition), or may still hold a pause this partition no
     * longer wants: the pause or resume is made again, so that fetching follows what is waiting here.
     */
    void reassigned() {
        synchronized (lock) {
            if (paused) {
                pause.run();
            } else {
                resume.run();
            }
        }
    }

    /**
     * Counts the record in and tracks it: its acknowledgement goes through the window. Null, and left to the
     * partition's owner, for a record fetched before the partition was last revoked and delivered only now. The check
     * and the tracking are one step against a revocation's clearing of the window.
     */
    private InboundRecord admitted(InboundRecord record) {
        synchronized (lock) {
            if (stale.test(record)) {
                return null;
            }
            if (++waiting >= high && !paused) {
                paused = true;
                pause.run();
            }
            OffsetWindow.Slot slot = window.track(record);
            return record.withAcknowledger(() -> {
                synchronized (lock) {
                    window.finish(slot);
                }
            });
        }
    }

    private void applied() {
        synchronized (lock) {
            if (--waiting <= high / 2 && paused) {
                paused = false;
                resume.run();
            }
        }
    }
}
