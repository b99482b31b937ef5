package dev.dialer.dispatcher.pacing;

import java.util.Collection;
import java.util.Set;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Where a dispatcher that gains partitions learns the calls already in flight on them. */
interface InFlightCalls {

    /** The calls in flight whose caller IDs live on {@code partitions} of a commands topic of {@code partitionCount}. */
    Flux<TrunkGate.CountedCall> on(Set<Integer> partitions, int partitionCount);

    /**
     * Of the calls named by their slot keys ({@link TrunkGate#slotKey}), those still in flight. A source that cannot
     * tell names them all, so that no slot is released on its word.
     */
    default Mono<Set<String>> stillInFlight(Collection<String> slotKeys) {
        return Mono.just(Set.copyOf(slotKeys));
    }
}
