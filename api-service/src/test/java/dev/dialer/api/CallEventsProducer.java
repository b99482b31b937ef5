package dev.dialer.api;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.EventType;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Writes call events to {@code dialer.call.events} as the dispatcher does (a plain producer, key = request id). Held
 * by a test class as {@code @RegisterExtension static}, it is closed after the class's tests.
 */
final class CallEventsProducer implements AutoCloseable, AfterAllCallback {

    private final KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Infrastructure.shared().kafkaBootstrapServers(),
            ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());

    static CallCommand command(String account, String requestId, String to, String campaign, String foreignId,
                               int interval) {
        return command(account, requestId, to, campaign, foreignId, interval, Instant.now());
    }

    /** As the API would have queued it at {@code createdAt}. */
    static CallCommand command(String account, String requestId, String to, String campaign, String foreignId,
                               int interval, Instant createdAt) {
        return new CallCommand(CallCommand.VERSION, requestId, account, "+918068281234", to, "1", null, campaign,
                interval, 3, 1, null, foreignId, Map.of(), null, null, null, null, null, createdAt);
    }

    static CallEvent.Builder event(CallCommand command, EventType type, long sequence, String status) {
        return CallEvent.about(command).type(type).sequence(sequence).status(status);
    }

    void send(CallEvent event) throws Exception {
        producer.send(new ProducerRecord<>(Topics.CALL_EVENTS, event.requestId(), Contract.toBytes(event)))
                .get(30, TimeUnit.SECONDS);
    }

    void sendRaw(String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(Topics.CALL_EVENTS, key, value)).get(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        producer.close();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        close();
    }
}
