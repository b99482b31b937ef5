package dev.dialer.api.kafka;

import dev.dialer.api.problem.Problems;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The API's one way into Kafka: publishes a request's records pipelined and completes only when the broker has
 * acknowledged every one of them ({@code acks=all}), within the configured time. Anything else becomes a 503
 * problem with {@code Retry-After}, so the caller never answers 2xx for a record Kafka does not have.
 */
public class AcknowledgedPublisher {

    private static final Logger log = LoggerFactory.getLogger(AcknowledgedPublisher.class);

    private final KafkaPublisher publisher;
    private final Duration ackTimeout;
    private final Duration retryAfter;
    private final Timer acknowledged;
    private final Timer failed;

    public AcknowledgedPublisher(KafkaPublisher publisher, Duration ackTimeout, Duration retryAfter,
                                 MeterRegistry registry) {
        this.publisher = publisher;
        this.ackTimeout = ackTimeout;
        this.retryAfter = retryAfter;
        this.acknowledged = latency(registry, "acknowledged");
        this.failed = latency(registry, "failed");
    }

    /**
     * At-least-once toward Kafka: completes after every record is acknowledged; errors with a 503 {@code ApiProblem}
     * when one is not within the ack timeout. After such an error some records may still be stored.
     */
    public Mono<Void> publishAll(List<OutboundRecord> records) {
        return Mono.defer(() -> {
            long started = System.nanoTime();
            return publisher.publishAll(records)
                    .timeout(ackTimeout)
                    .doOnSuccess(done -> record(acknowledged, started))
                    .doOnError(error -> record(failed, started))
                    .onErrorMap(this::unavailable);
        });
    }

    /** How long a client is told to wait before retrying a request whose records Kafka may not have. */
    public Duration retryAfter() {
        return retryAfter;
    }

    private Throwable unavailable(Throwable error) {
        String why = error instanceof TimeoutException
                ? "Kafka did not acknowledge within " + ackTimeout.toMillis() + " ms"
                : "Kafka refused the records";
        log.warn("answering 503: {} ({})", why, error.toString());
        return Problems.unavailable("The request could not be queued: " + why + ". Retry later.", retryAfter, error);
    }

    private static void record(Timer timer, long started) {
        timer.record(Duration.ofNanos(System.nanoTime() - started));
    }

    private static Timer latency(MeterRegistry registry, String outcome) {
        return Timer.builder("dialer.api.produce.latency")
                .description("Time from producing a request's records to the broker acknowledging all of them")
                .tag("outcome", outcome)
                .register(registry);
    }
}
