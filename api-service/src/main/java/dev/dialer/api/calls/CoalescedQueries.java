package dev.dialer.api.calls;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Runs an expensive read once for all the requests that ask for the same key meanwhile, and answers its result for
 * {@code kept} after it came, on this instance: a few dashboards polling a campaign of millions of calls then cost
 * one count every {@code kept}, not one each, which would hold a connection of the pool for seconds apiece and leave
 * every other request of every account waiting for one (answered 503). A key's entry is removed {@code kept} after
 * its result came, and at once when the read failed (the next request reads again), so the map holds only the reads
 * running or answered within {@code kept}, never every key ever asked for.
 *
 * <p>The read runs detached from the requests that wait for it: one that goes away (its client hung up) neither
 * cancels it for the others nor leaves them an entry whose read will never end.
 *
 * @param <K> what a read is for
 * @param <V> its result; a read that completes empty answers empty
 */
final class CoalescedQueries<K, V> {

    private final Function<K, Mono<V>> query;
    private final Duration kept;
    private final Duration limit;
    private final Scheduler scheduler;
    private final Map<K, Entry<V>> entries = new ConcurrentHashMap<>();

    /**
     * @param query     the read, once per key at a time
     * @param kept      how long a result is answered after its read began
     * @param limit     how long a read may take before it fails (those waiting for it get the error)
     * @param scheduler whose clock dates the results and which removes their entries
     */
    CoalescedQueries(Function<K, Mono<V>> query, Duration kept, Duration limit, Scheduler scheduler) {
        this.query = query;
        this.kept = kept;
        this.limit = limit;
        this.scheduler = scheduler;
    }

    /** The result of the read running for {@code key}, of one that answered within {@code kept}, or of a new one. */
    Mono<V> get(K key) {
        return Mono.defer(() -> {
            long now = now();
            Entry<V> entry = entries.compute(key, (k, held) -> held != null && !held.expired(now) ? held
                    : new Entry<>());
            if (entry.started.compareAndSet(false, true)) {
                run(key, entry);
            }
            // One waiting request cancelled must not cancel the read for the others.
            return Mono.fromFuture(entry.result, true);
        });
    }

    /** The keys held: reads running or answered within {@code kept}. */
    int size() {
        return entries.size();
    }

    /**
     * Runs the read, within {@code limit}: a read on a connection that hangs would otherwise answer nobody and keep
     * every later request for the key waiting on it. Its result is answered until {@code kept} after the read began
     * (what it saw is that old), so a read slower than {@code kept} is answered to those that waited and read again
     * for the next.
     */
    private void run(K key, Entry<V> entry) {
        long began = now();
        Mono.defer(() -> query.apply(key)).timeout(limit, scheduler).toFuture().whenComplete((value, error) -> {
            if (error != null) {
                entries.remove(key, entry);
                entry.result.completeExceptionally(error);
                return;
            }
            entry.expiresAt = began + kept.toNanos();
            forgetLater(key, entry, Math.max(0, entry.expiresAt - now()));
            entry.result.complete(value);
        });
    }

    private void forgetLater(K key, Entry<V> entry, long afterNanos) {
        try {
            scheduler.schedule(() -> entries.remove(key, entry), afterNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // The scheduler is shut down with the service: nothing reads from here any more.
            entries.remove(key, entry);
        }
    }

    private long now() {
        return scheduler.now(TimeUnit.NANOSECONDS);
    }

    /** A read and, once it answered, until when its result is answered. */
    private static final class Entry<V> {

        final CompletableFuture<V> result = new CompletableFuture<>();
        final AtomicBoolean started = new AtomicBoolean();
        /** On the scheduler's clock; the entry of a read still running does not expire. */
        volatile long expiresAt = Long.MAX_VALUE;

        boolean expired(long now) {
            return now >= expiresAt;
        }
    }
}
