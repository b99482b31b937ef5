package dev.dialer.api.kafka;

import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import reactor.core.publisher.Mono;

/**
 * The API's publisher, whose broker refuses every record of the topics it is told to ({@code NOT_ENOUGH_REPLICAS}, as
 * a cluster that lost its replicas does), for the requests that publish them: such a record never reaches Kafka.
 * Records sent unwaited (the restatements) go through, as they would once the cluster is whole again, unless the topic
 * is cut off: then they are refused too, as while Kafka is away, and only a sweep after {@link #admit} stores them.
 */
public class RefusingPublisher extends AcknowledgedPublisher {

    private final Set<String> refused = ConcurrentHashMap.newKeySet();
    private final Set<String> cutOff = ConcurrentHashMap.newKeySet();

    public RefusingPublisher(KafkaPublisher publisher, Duration ackTimeout, Duration retryAfter,
                             MeterRegistry registry) {
        super(publisher, ackTimeout, retryAfter, registry);
    }

    public void refuse(String topic) {
        refused.add(topic);
    }

    /** Refuses the topic's records, those of the restatements included. */
    public void cutOff(String topic) {
        refused.add(topic);
        cutOff.add(topic);
    }

    public void admit(String topic) {
        refused.remove(topic);
        cutOff.remove(topic);
    }

    @Override
    public Mono<Void> publishAll(List<OutboundRecord> records, String outcome) {
        if (records.stream().noneMatch(record -> refused.contains(record.topic()))) {
            return super.publishAll(records, outcome);
        }
        return Mono.error(() -> unavailable(new NotEnoughReplicasException("refused by the test's broker"),
                records.size(), outcome));
    }

    @Override
    public void sendUnwaited(List<OutboundRecord> records, Runnable stored, Consumer<Throwable> failed) {
        if (records.stream().anyMatch(record -> cutOff.contains(record.topic()))) {
            failed.accept(new NotEnoughReplicasException("refused by the test's broker"));
            return;
        }
        super.sendUnwaited(records, stored, failed);
    }
}
