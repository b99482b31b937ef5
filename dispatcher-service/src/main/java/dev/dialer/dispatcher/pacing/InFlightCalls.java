package dev.dialer.dispatcher.pacing;

import java.util.Set;
import reactor.core.publisher.Flux;

/** Where a dispatcher that gains partitions learns the calls already in flight on them. */
interface InFlightCalls {

    /** The calls in flight whose caller IDs live on {@code partitions} of a commands topic of {@code partitionCount}. */
    Flux<TrunkGate.CountedCall> on(Set<Integer> partitions, int partitionCount);
}
