package dev.dialer.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.infra.EmbeddedKafka;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Sinks;

/**
 * A broker that takes only SASL logins, as a secured production cluster does: every kind of client the services make
 * (admin, publisher, group consumer, compacted-topic reader) reaches it with the client properties of
 * {@code dialer.kafka.properties}, and none does without them.
 */
class SecuredKafkaIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    @TempDir
    static Path dataDir;
    private static EmbeddedKafka broker;

    @BeforeAll
    static void startBroker() {
        broker = EmbeddedKafka.startWithLogins(dataDir, 0, Map.of("dialer", "s3cret"));
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    /** The login, and a batching delay of the operator's (the publisher's time-outs must make room for it). */
    private static KafkaSettings loggingInAs(String user, String password) {
        return KafkaSettings.configured(broker.bootstrapServers(), Map.of(
                "linger.ms", "5",
                "security.protocol", "SASL_PLAINTEXT",
                "sasl.mechanism", "PLAIN",
                "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                        + user + "\" password=\"" + password + "\";"));
    }

    @Test
    void everyKindOfClientReachesTheBrokerWithTheConfiguredLogin() {
        KafkaSettings settings = loggingInAs("dialer", "s3cret");
        String work = "secured-work-" + UUID.randomUUID();
        String compacted = "secured-compacted-" + UUID.randomUUID();
        TopicProvisioner.ensure(settings, List.of(TopicSpec.deleting(work, 3, Duration.ofDays(1)),
                TopicSpec.compacted(compacted, 1)), (short) 1, WAIT.toMillis());
        assertThat(TopicProvisioner.partitionCount(settings, work, WAIT.toMillis())).isEqualTo(3);

        try (KafkaPublisher publisher = KafkaPublisher.create(settings, "secured-it", WAIT)) {
            publisher.publish(OutboundRecord.of(work, "caller-1", bytes("command"))).block(WAIT);
            publisher.publish(OutboundRecord.of(compacted, "account-1", bytes("settings"))).block(WAIT);
        }

        Sinks.One<String> received = Sinks.one();
        Disposable consuming = KafkaSubscriber.receive(settings, "secured-" + UUID.randomUUID(), List.of(work), 10)
                .subscribe(record -> {
                    received.tryEmitValue(new String(record.value(), StandardCharsets.UTF_8));
                    record.acknowledge();
                });
        CompactedTopicReader reader = new CompactedTopicReader(settings, compacted);
        Sinks.One<String> read = Sinks.one();
        Disposable reading = reader.records()
                .subscribe(record -> read.tryEmitValue(record.key() + "=" + new String(record.value(),
                        StandardCharsets.UTF_8)));
        try {
            assertThat(received.asMono().block(WAIT)).isEqualTo("command");
            assertThat(read.asMono().block(WAIT)).isEqualTo("account-1=settings");
            reader.caughtUp().block(WAIT);
        } finally {
            consuming.dispose();
            reading.dispose();
        }
    }

    @Test
    void aClientWithoutTheLoginOrWithAWrongOneIsRefused() {
        String topic = "secured-refused-" + UUID.randomUUID();
        assertThatThrownBy(() -> TopicProvisioner.ensure(KafkaSettings.of(broker.bootstrapServers()),
                List.of(TopicSpec.deleting(topic, 1, Duration.ofDays(1))), (short) 1, 3_000))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot reach Kafka");

        TopicProvisioner.ensure(loggingInAs("dialer", "s3cret"), List.of(TopicSpec.deleting(topic, 1,
                Duration.ofDays(1))), (short) 1, WAIT.toMillis());
        try (KafkaPublisher publisher = KafkaPublisher.create(loggingInAs("dialer", "wrong"), "secured-it", WAIT)) {
            assertThatThrownBy(() -> publisher.publish(OutboundRecord.of(topic, "k", bytes("v"))).block(WAIT))
                    .isInstanceOf(SaslAuthenticationException.class)
                    .hasMessageContaining("Invalid username or password");
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
