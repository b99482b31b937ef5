package dev.dialer.api.calls;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Accepted calls whose {@code queued} rows could not be written once Kafka had their commands: the answer stands (the
 * calls are queued), their first event adds the rows (decision 0050), and until then they are counted
 * ({@code dialer.api.read_model.accepted_not_recorded}) and logged, since a cancel finds no call to act on.
 */
public final class UnrecordedCalls {

    private static final Logger log = LoggerFactory.getLogger(UnrecordedCalls.class);

    private final Counter counter;

    public UnrecordedCalls(MeterRegistry registry) {
        this.counter = Counter.builder("dialer.api.read_model.accepted_not_recorded")
                .description("Accepted calls whose queued row could not be written (the events will create it)")
                .register(registry);
    }

    /**
     * {@code recording} (the {@code calls} rows of the account's accepted calls), never failing: a failure is noted.
     */
    public Mono<Void> tolerated(Mono<Void> recording, String accountId, int calls) {
        return recording.onErrorResume(error -> {
            counter.increment(calls);
            log.warn("{} accepted calls of account {} not recorded as queued; their events will add them", calls,
                    accountId, error);
            return Mono.empty();
        });
    }
}
