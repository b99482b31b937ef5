package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.ContractViolation;
import dev.dialer.common.kafka.DeadLetters;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.Topics;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Keeps the records of a topic webhook-service consumes that it cannot read, or whose handling failed for a reason
 * that is neither the record's data nor an outage, in that topic's DLQ: the record untouched, with headers naming the
 * error and where it came from ({@link DeadLetters}), counted as {@code dialer.webhook.dlq{source,code}}.
 *
 * <p>The caller acknowledges the record once {@link #send} completes, so a bad record is never acknowledged without
 * its copy. A send that fails is not given up, whatever the failure: it is tried again, backing off to 30 s, each
 * failure logged as an error, as the dispatcher's DLQ does. A DLQ that refuses writes for good (its write permission
 * missing) holds back the record's partition, seen as consumer lag, until it is put right; its other records go on
 * meanwhile, but none is committed past it.
 */
final class BadRecords {

    private static final Logger log = LoggerFactory.getLogger(BadRecords.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    /** The topics whose bad records are kept, each with its DLQ; the {@code source} tag of the metric. */
    enum Source {
        /** {@link Topics#CALL_EVENTS}. */
        EVENTS("events", "call event", Topics.CALL_EVENTS_DLQ),
        /** {@link Topics#WEBHOOK_CONTROL}. */
        REPLAYS("replays", "replay request", Topics.WEBHOOK_CONTROL_DLQ);

        private final String tag;
        private final String what;
        private final String dlq;

        Source(String tag, String what, String dlq) {
            this.tag = tag;
            this.what = what;
            this.dlq = dlq;
        }

        String tag() {
            return tag;
        }

        /** The topic its bad records go to. */
        String dlq() {
            return dlq;
        }
    }

    private final Source source;
    private final DeadLetters deadLetters;
    private final DeliveryMetrics metrics;

    BadRecords(Source source, KafkaPublisher publisher, DeliveryMetrics metrics) {
        this.source = source;
        this.deadLetters = new DeadLetters(publisher, source.dlq());
        this.metrics = metrics;
    }

    /** Completes once the DLQ has the record's copy, whole or cut short; never errors. */
    Mono<Void> send(InboundRecord record, ContractViolation violation) {
        return deadLetters.send(record, violation)
                // Not only outages: a record acknowledged without its copy would be lost.
                .retryWhen(Retry.backoff(Long.MAX_VALUE, FIRST_BACKOFF).maxBackoff(MAX_BACKOFF)
                        .doBeforeRetry(signal -> log.error("the DLQ copy of {} at {}-{}@{} was not sent (retry {}); "
                                        + "it is not given up, and the record is not acknowledged until it is: {}",
                                source.what, record.topic(), record.partition(), record.offset(),
                                signal.totalRetries() + 1, signal.failure().toString())))
                .doOnNext(copy -> {
                    log.warn("{} at {}-{}@{} is {}: {}; sent to {} ({})", source.what, record.topic(),
                            record.partition(), record.offset(), violation.code().wire(), violation.getMessage(),
                            source.dlq, copy.wire());
                    metrics.sentToDlq(source, violation.code());
                })
                .then();
    }
}
