package dev.dialer.dispatcher.command;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.kafka.InboundRecord;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

class CallbackPartitionTest {

    private static final String A = "+4930555000";

    private final List<Long> acknowledged = Collections.synchronizedList(new ArrayList<>());
    private final List<String> started = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Sinks.Empty<Void>> running = Collections.synchronizedMap(new HashMap<>());
    private final Sinks.Many<InboundRecord> records = Sinks.many().unicast().onBackpressureBuffer();

    @Test
    void oneCallerIdsCallbacksWaitForEachOtherAndAnotherCallerIdsDoNot() {
        String b = inAnotherStream(A, 4);
        Disposable applying = start(new CallbackPartition(4, 1_000, () -> { }, () -> { }));

        offer(0, A, "a0");
        offer(1, b, "b0");
        offer(2, A, "a1");

        assertThat(started).containsExactly("a0", "b0");
        finish("b0");
        assertThat(started).as("a1 waits for a0, the same caller ID's").containsExactly("a0", "b0");
        finish("a0");
        assertThat(started).containsExactly("a0", "b0", "a1");
        finish("a1");
        applying.dispose();
    }

    @Test
    void offsetsAreAcknowledgedInOrderWhateverOrderTheCallbacksAreAppliedIn() {
        String b = inAnotherStream(A, 4);
        Disposable applying = start(new CallbackPartition(4, 1_000, () -> { }, () -> { }));
        offer(0, A, "a0");
        offer(1, b, "b0");
        offer(2, A, "a1");

        finish("b0");
        assertThat(acknowledged).as("offset 0 not applied yet: nothing committed").isEmpty();
        finish("a0");
        assertThat(acknowledged).as("0 and 1 applied: 1 acknowledged, which commits both").containsExactly(1L);
        finish("a1");
        assertThat(acknowledged).containsExactly(1L, 2L);
        applying.dispose();
    }

    @Test
    void recordsOfARevokedAssignmentAcknowledgeNothingOnceThePartitionComesBack() {
        String b = inAnotherStream(A, 4);
        CallbackPartition partition = new CallbackPartition(4, 1_000, () -> { }, () -> { });
        Disposable applying = start(partition);
        offer(5, A, "a5");
        offer(6, b, "b6");

        partition.revoke();
        // Assigned again and delivered again from the last commit, while the old records are still being applied.
        offer(5, b, "b5-again");
        finish("a5");
        finish("b6");
        assertThat(acknowledged).as("the old records, finished after the revocation, acknowledge nothing").isEmpty();
        finish("b5-again");
        assertThat(acknowledged).as("never 6 and then 5: the commit does not go back").containsExactly(5L);
        applying.dispose();
    }

    @Test
    void aRecordFetchedBeforeTheRevocationAndDeliveredAfterItIsLeftToThePartitionsOwner() {
        String b = inAnotherStream(A, 4);
        AtomicLong revokedAt = new AtomicLong();
        CallbackPartition partition = new CallbackPartition(4, 1_000, () -> { }, () -> { },
                record -> record.assignment() < revokedAt.get());
        Disposable applying = start(partition);
        offer(5, A, "a5", 1);

        // Revoked in the subscription's second rebalance step, assigned again in its third.
        revokedAt.set(2);
        partition.revoke();
        // Still on its way through the pipeline when the partition was revoked; then the partition comes back and is
        // fetched again from the last commit.
        offer(6, b, "b6-fetched-before", 1);
        offer(5, b, "b5-again", 3);
        finish("a5");
        finish("b5-again");

        assertThat(started).containsExactly("a5", "b5-again");
        assertThat(acknowledged).as("nothing past 5: offset 6 was never taken in").containsExactly(5L);
        applying.dispose();
    }

    @Test
    void aRecordWaitingItsTurnWhenThePartitionIsRevokedIsLeftToThePartitionsOwner() {
        AtomicLong revokedAt = new AtomicLong();
        CallbackPartition partition = new CallbackPartition(4, 1_000, () -> { }, () -> { },
                record -> record.assignment() < revokedAt.get());
        Disposable applying = start(partition);
        offer(5, A, "a5", 1);
        offer(6, A, "a6-waiting", 1);

        // Revoked while a5 is applied and a6 waits behind it (the same caller ID's): the next owner reads a6 again.
        revokedAt.set(2);
        partition.revoke();
        finish("a5");

        assertThat(started).as("a6 is not applied here after the revocation").containsExactly("a5");
        offer(6, A, "a6-again", 3);
        assertThat(started).as("the partition's records taken in since go on").containsExactly("a5", "a6-again");
        finish("a6-again");
        assertThat(acknowledged).containsExactly(6L);
        applying.dispose();
    }

    @Test
    void oneStreamAppliesThePartitionStrictlyInOrder() {
        Disposable applying = start(new CallbackPartition(1, 1_000, () -> { }, () -> { }));
        offer(0, A, "a0");
        offer(1, inAnotherStream(A, 4), "b0");

        assertThat(started).containsExactly("a0");
        finish("a0");
        assertThat(started).containsExactly("a0", "b0");
        finish("b0");
        applying.dispose();
    }

    @Test
    void fetchingStopsAtTheBoundAndResumesOnceHalfOfItIsApplied() {
        AtomicInteger pauses = new AtomicInteger();
        AtomicInteger resumes = new AtomicInteger();
        Disposable applying = start(new CallbackPartition(1, 4, pauses::incrementAndGet, resumes::incrementAndGet));
        for (int i = 0; i < 5; i++) {
            offer(i, A, "a" + i);
        }
        assertThat(pauses).hasValue(1);
        finish("a0");
        finish("a1");
        assertThat(resumes).as("3 waiting, above half the bound").hasValue(0);
        finish("a2");
        assertThat(resumes).hasValue(1);
        finish("a3");
        finish("a4");
        assertThat(pauses).hasValue(1);
        applying.dispose();
    }

    @Test
    void aPartitionAssignedAgainIsPausedAgainWhileItsBoundIsReachedAndResumedOtherwise() {
        AtomicInteger pauses = new AtomicInteger();
        AtomicInteger resumes = new AtomicInteger();
        CallbackPartition partition = new CallbackPartition(1, 4, pauses::incrementAndGet, resumes::incrementAndGet);
        Disposable applying = start(partition);
        for (int i = 0; i < 4; i++) {
            offer(i, A, "a" + i);
        }
        assertThat(pauses).hasValue(1);

        // A consumer created after a failure holds no pause: the partition, still at its bound, is paused there too.
        partition.revoke();
        partition.reassigned();
        assertThat(pauses).as("paused again at the consumer that holds it now").hasValue(2);
        assertThat(resumes).hasValue(0);

        for (int i = 0; i < 3; i++) {
            finish("a" + i);
        }
        assertThat(resumes).as("half of the bound applied").hasValue(1);
        // Assigned again below its bound: a pause the consumer may still hold is lifted.
        partition.revoke();
        partition.reassigned();
        assertThat(resumes).hasValue(2);
        assertThat(pauses).hasValue(2);
        finish("a3");
        applying.dispose();
    }

    /** Applies the partition's records: each starts, then waits for {@link #finish}, then acknowledges itself. */
    private Disposable start(CallbackPartition partition) {
        return partition.apply(records.asFlux(), record -> Mono.defer(() -> {
            String name = new String(record.value());
            Sinks.Empty<Void> done = Sinks.empty();
            running.put(name, done);
            started.add(name);
            return done.asMono();
        }).then(Mono.fromRunnable(record::acknowledge))).subscribe();
    }

    private void offer(long offset, String callerId, String name) {
        offer(offset, callerId, name, 0);
    }

    /** A record fetched under the subscription's {@code assignment}. */
    private void offer(long offset, String callerId, String name, long assignment) {
        records.tryEmitNext(new InboundRecord("dialer.carrier.callbacks", 0, offset, callerId, name.getBytes(),
                Map.of(), () -> acknowledged.add(offset), assignment));
    }

    private void finish(String name) {
        running.get(name).tryEmitEmpty();
    }

    /** A caller ID that the partition applies in another stream than {@code callerId}'s. */
    private static String inAnotherStream(String callerId, int streams) {
        for (int i = 1; ; i++) {
            String other = "+4930555" + (100 + i);
            if (Math.floorMod(other.hashCode(), streams) != Math.floorMod(callerId.hashCode(), streams)) {
                return other;
            }
        }
    }
}
