package dev.dialer.api.kafka;

import dev.dialer.api.problem.Problems;
import dev.dialer.api.trace.TraceContext;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * The API's one way into Kafka: publishes a request's records pipelined and completes only when the broker has
 * acknowledged every one of them ({@code acks=all}), within the configured time. Anything else becomes a 503
 * problem with {@code Retry-After}, so the caller never answers 2xx for a record Kafka does not have.
 */
public class AcknowledgedPublisher {

    private static final Logger log = LoggerFactory.getLogger(AcknowledgedPublisher.class);
    private static final String RETRY_WITH_THE_KEY = "Retry with the same Idempotency-Key, which makes the repeat "
            + "safe; a send repeated without one queues again every recipient that has no foreign_id.";

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
        return publishAll(records, null);
    }

    /**
     * As {@link #publishAll(List)}, for a request that is no send and takes no {@code Idempotency-Key}: its 503 says
     * why Kafka did not have the records, then {@code outcome}, what became of the request and how to retry it
     * (the caller knows: a change undone, a cancel kept…).
     */
    public Mono<Void> publishAll(List<OutboundRecord> records, String outcome) {
        return Mono.deferContextual(context -> {
            long started = System.nanoTime();
            return publisher.publishAll(traced(records, context))
                    .timeout(ackTimeout)
                    .doOnSuccess(done -> record(acknowledged, started))
                    .doOnError(error -> record(failed, started))
                    .onErrorMap(error -> outcome == null ? unavailable(error, records.size())
                            : unavailable(error, records.size(), outcome));
        });
    }

    /** The longest a record handed to the producer may still take to land ({@link KafkaPublisher#longestLanding}). */
    public Duration longestLanding() {
        return publisher.longestLanding();
    }

    /**
     * Hands {@code records} to the producer without waiting for them: nothing cancels their sending (a reactive
     * timeout cancelling a send before the producer took its record drops the record); the producer's own delivery
     * timeout bounds it. {@code stored} hears that the broker acknowledged them all, {@code failed} of a record the
     * producer gave up.
     */
    public void sendUnwaited(List<OutboundRecord> records, Runnable stored, Consumer<Throwable> failed) {
        publisher.publishAll(records).subscribe(done -> { }, failed, stored);
    }

    /** The records with the request's {@code traceparent} ({@link TraceContext}), when they are sent serving one. */
    private static List<OutboundRecord> traced(List<OutboundRecord> records, ContextView context) {
        return TraceContext.of(context)
                .map(traceparent -> records.stream().map(record -> {
                    Map<String, String> headers = new HashMap<>(record.headers());
                    headers.put(TraceContext.HEADER, traceparent);
                    return new OutboundRecord(record.topic(), record.key(), record.value(), headers);
                }).toList())
                .orElse(records);
    }

    /** How long a client is told to wait before retrying a request whose records Kafka may not have. */
    public Duration retryAfter() {
        return retryAfter;
    }

    /**
     * A late acknowledgement says nothing about the records: the producer goes on sending them, so they may well be
     * stored, and the answer must not tell the client that a plain retry is harmless (for a send, it would call the
     * recipients twice). Both time-outs count: the reactive one here and the producer's own delivery time-out. A
     * refusal is told as soon as the first refused record is, while the request's other records may be stored or
     * still on their way: only a request of one record was refused whole.
     */
    Throwable unavailable(Throwable error, int records) {
        if (error instanceof TimeoutException || error instanceof org.apache.kafka.common.errors.TimeoutException) {
            log.warn("answering 503: Kafka did not acknowledge within {} ms ({})", ackTimeout.toMillis(),
                    error.toString());
            return Problems.unavailable(notAcknowledged(ackTimeout), retryAfter, error);
        }
        log.warn("answering 503: Kafka refused {} of {} records ({})", records == 1 ? "the only one" : "one or more",
                records, error.toString());
        if (records > 1) {
            return Problems.unavailable("Kafka refused some of the request's records and may have stored others: "
                    + "retrying may repeat what was stored. A send retried with the same Idempotency-Key is safe; "
                    + "one repeated without queues again every recipient that has no foreign_id.", retryAfter, error);
        }
        return Problems.unavailable("The request could not be queued: Kafka refused the records. Retry later.",
                retryAfter, error);
    }

    /**
     * The 503 of a request that is no send: the failure, told as {@link #unavailable(Throwable, int)} logs it, then
     * {@code outcome}.
     */
    Throwable unavailable(Throwable error, int records, String outcome) {
        boolean late = error instanceof TimeoutException
                || error instanceof org.apache.kafka.common.errors.TimeoutException;
        log.warn("answering 503: Kafka {} ({})", late ? "did not acknowledge within " + ackTimeout.toMillis() + " ms"
                : "refused " + (records == 1 ? "the only record" : "one or more of " + records + " records"),
                error.toString());
        return Problems.unavailable((late ? "Kafka did not acknowledge the request within " + ackTimeout.toMillis()
                + " ms. " : "Kafka refused the request's records. ") + outcome, retryAfter, error);
    }

    /** The 503's detail when Kafka did not acknowledge within {@code ackTimeout}. */
    public static String notAcknowledged(Duration ackTimeout) {
        return "Kafka did not acknowledge the request within " + ackTimeout.toMillis() + " ms; it may still take "
                + "effect. " + RETRY_WITH_THE_KEY;
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
