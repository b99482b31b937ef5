package dev.dialer.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.standardwebhooks.Webhook;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.Hook;
import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.KafkaSubscriber;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.r2dbc.core.DatabaseClient;

/** What the integration tests publish and read, against the shared Kafka and PostgreSQL. */
final class ItFixture implements AutoCloseable {

    static final Duration WAIT = Duration.ofSeconds(90);

    private final KafkaPublisher publisher;

    ItFixture(String clientId) {
        publisher = KafkaPublisher.create(KafkaSettings.of(Infrastructure.shared().kafkaBootstrapServers()), clientId,
                Duration.ofSeconds(30));
    }

    void publish(String topic, String key, byte[] value) {
        publish(OutboundRecord.of(topic, key, value));
    }

    void publish(OutboundRecord record) {
        publisher.publish(record).block(Duration.ofSeconds(30));
    }

    void publishEvents(String requestId, List<CallEvent> events) {
        publisher.publishAll(events.stream()
                        .map(event -> OutboundRecord.of(Topics.CALL_EVENTS, requestId, Contract.toBytes(event)))
                        .toList())
                .block(Duration.ofSeconds(30));
    }

    void publishWebhook(WebhookConfig config) {
        publish(Topics.WEBHOOK_CONFIG, config.id(), Contract.toBytes(config));
    }

    /** Publishes an enabled subscription of the webhook to the event types; answers its key. */
    String publishSubscription(String account, String webhookId, String... eventTypes) {
        SubscriptionConfig subscription = new SubscriptionConfig(SubscriptionConfig.KIND, unique("sub"), account,
                webhookId, List.of(eventTypes), true, Instant.now());
        publish(Topics.WEBHOOK_CONFIG, subscription.key(), Contract.toBytes(subscription));
        return subscription.key();
    }

    static void assertSignedWith(String secret, WebhookReceiver.Received request) {
        assertThatCode(() -> new Webhook(secret).verify(request.bodyText(), request.headers()))
                .doesNotThrowAnyException();
    }

    /**
     * The first {@code count} records of {@code topic} under {@code key}, read from the start with a group of their
     * own; fails when there are fewer within {@link #WAIT}.
     */
    static List<InboundRecord> records(String topic, String key, int count) {
        return KafkaSubscriber.receive(KafkaSettings.of(Infrastructure.shared().kafkaBootstrapServers()),
                        unique("it-records"), List.of(topic), 500)
                .filter(record -> key.equals(record.key()))
                .take(count)
                .collectList()
                .block(WAIT);
    }

    /**
     * Asserts that {@code copy} is the DLQ copy of {@code source}: the same key and value, the error's code, and the
     * topic, partition and offset it came from.
     */
    static void assertCopyOf(InboundRecord source, InboundRecord copy, String code) {
        assertThat(copy.key()).isEqualTo(source.key());
        assertThat(copy.value()).isEqualTo(source.value());
        assertThat(copy.headers())
                .containsEntry(Topics.HEADER_ERROR_CODE, code)
                .containsKey(Topics.HEADER_ERROR_MESSAGE)
                .containsEntry(Topics.HEADER_SOURCE_TOPIC, source.topic())
                .containsEntry(Topics.HEADER_SOURCE_PARTITION, Integer.toString(source.partition()))
                .containsEntry(Topics.HEADER_SOURCE_OFFSET, Long.toString(source.offset()))
                .doesNotContainKey(Topics.HEADER_DLQ_TRUNCATED);
    }

    /** "attempt_no:status_code:outcome" of every logged try of the event, in order. */
    static List<String> attempts(DatabaseClient database, String eventId) {
        return database.sql("""
                        SELECT attempt_no, status_code, outcome FROM webhook.delivery_attempts
                        WHERE event_id = :eventId ORDER BY id""")
                .bind("eventId", eventId)
                .map(row -> row.get("attempt_no", Integer.class) + ":" + row.get("status_code", Integer.class) + ":"
                        + row.get("outcome", String.class))
                .all()
                .collectList()
                .block(Duration.ofSeconds(10));
    }

    /** The event's deliveries waiting in the retry table. */
    static long retryRows(DatabaseClient database, String eventId) {
        return database.sql("SELECT count(*) AS n FROM webhook.retries WHERE event_id = :id")
                .bind("id", eventId)
                .map(row -> row.get("n", Long.class))
                .one()
                .block(Duration.ofSeconds(10));
    }

    /** The reason of each of the event's dead letters. */
    static List<String> deadLetters(DatabaseClient database, String eventId) {
        return database.sql("SELECT reason FROM webhook.dead_letters WHERE event_id = :eventId")
                .bind("eventId", eventId)
                .map(row -> row.get("reason", String.class))
                .all()
                .collectList()
                .block(Duration.ofSeconds(10));
    }

    static CallCommand command(String requestId, String account, String webhookId) {
        return command(requestId, account, webhookId, null);
    }

    /** A call whose events also go to {@code notify} (its notify_url), or only to the webhook when it is null. */
    static CallCommand command(String requestId, String account, String webhookId, Hook notify) {
        return new CallCommand(CallCommand.VERSION, requestId, account, "+14155550100", "+919876543210", "23",
                null, "it", 0, 0, 1, webhookId, null, Map.of(), null, null, notify, null, null, Instant.now());
    }

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID();
    }

    static String newSecret() {
        byte[] key = new byte[24];
        new SecureRandom().nextBytes(key);
        return "whsec_" + Base64.getEncoder().encodeToString(key);
    }

    @Override
    public void close() {
        publisher.close();
    }
}
