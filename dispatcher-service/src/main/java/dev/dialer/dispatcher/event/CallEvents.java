package dev.dialer.dispatcher.event;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.EventType;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.UnaryOperator;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Writes call events to {@code dialer.call.events}, keyed by request id so a call's events stay in order, each with
 * the request's next {@code sequence_number}. Never carries the request's variables ({@link CallEvent} has no field
 * for them).
 */
@Component
public class CallEvents {

    private final AttemptLedger ledger;
    private final KafkaPublisher publisher;
    private final MeterRegistry registry;

    CallEvents(AttemptLedger ledger, KafkaPublisher publisher, MeterRegistry registry) {
        this.ledger = ledger;
        this.publisher = publisher;
        this.registry = registry;
        // Registered up front, so dashboards see zeros rather than missing series.
        for (EventType type : EventType.values()) {
            registry.counter("dialer.dispatcher.events", "type", type.wire());
        }
    }

    /**
     * Builds the event ({@code details} fills in what happened) and publishes it with {@code acks=all}. Each step
     * retries infrastructure errors by {@code retry}; a retried publish sends the same event (same id and sequence
     * number), so a consumer can drop the copy a timed-out but delivered first send leaves behind.
     *
     * @return the published event, once Kafka has it
     */
    public Mono<CallEvent> emit(CallCommand command, UnaryOperator<CallEvent.Builder> details, Retry retry) {
        return ledger.nextSequence(command.requestId())
                .retryWhen(retry)
                .map(sequence -> details.apply(CallEvent.about(command)).sequence(sequence).build())
                .flatMap(event -> publish(event).retryWhen(retry).thenReturn(event))
                .doOnNext(this::count);
    }

    /**
     * Ends the request with {@code status} and publishes its {@code call.final}, but only if this call is the one that
     * ended it (the PostgreSQL transition from no final status): a request gets exactly one final event however many
     * paths reach an end. {@code details} fills in the rest; type, status and {@code will_retry=false} are set here.
     */
    public Mono<Void> finishOnce(CallCommand command, FinalStatus status, UnaryOperator<CallEvent.Builder> details,
                                 Retry retry) {
        return ledger.finish(command.requestId(), status)
                .retryWhen(retry)
                .filter(Boolean::booleanValue)
                .flatMap(first -> emit(command, event -> details.apply(event
                        .type(EventType.FINAL)
                        .status(status)
                        .retry(false, null)), retry))
                .then();
    }

    private Mono<Void> publish(CallEvent event) {
        return publisher.publish(OutboundRecord.of(Topics.CALL_EVENTS, event.requestId(), Contract.toBytes(event)));
    }

    private void count(CallEvent event) {
        registry.counter("dialer.dispatcher.events", "type", event.eventType().wire()).increment();
    }
}
