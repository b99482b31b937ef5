package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.ContractViolation;
import dev.dialer.common.kafka.DeadLetters;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.Topics;
import reactor.core.publisher.Mono;

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
        return deadLetters.sendUntilDone(record, violation, source.what)
                .doOnNext(copy -> metrics.sentToDlq(source, violation.code()))
                .then();
    }
}
