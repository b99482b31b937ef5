package dev.dialer.webhook;

import static dev.dialer.webhook.ItFixture.command;
import static dev.dialer.webhook.ItFixture.newSecret;
import static dev.dialer.webhook.ItFixture.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.KafkaSubscriber;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.EmbeddedKafka;
import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.directory.WebhookDirectory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import reactor.core.Disposable;

/**
 * The service against a broker that takes only SASL logins, given as {@code dialer.kafka.properties}: it creates its
 * topics, reads its webhooks (compacted topic) and the call events (consumer group), delivers, and publishes the
 * delivery attempt, each through the same login. The broker is this class's own and lives as long as the JVM, after
 * the service's context, which closes once the class is done.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=webhook-service")
@ActiveProfiles("it")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class SecuredKafkaIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"webhooks\" password=\"s3cret\";";
    private static final Map<String, String> LOGIN = Map.of(
            "security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "PLAIN", "sasl.jaas.config", JAAS);

    private static EmbeddedKafka broker;

    @Autowired
    WebhookDirectory directory;
    private static WebhookReceiver receiver;
    private static KafkaPublisher publisher;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
        registry.add("dialer.kafka.bootstrap-servers", () -> broker().bootstrapServers());
        LOGIN.forEach((name, value) -> registry.add("dialer.kafka.properties." + name, () -> value));
    }

    private static synchronized EmbeddedKafka broker() {
        if (broker == null) {
            Path dir;
            try {
                dir = Files.createTempDirectory("dialer-it-secured-kafka-");
                broker = EmbeddedKafka.startWithLogins(dir, 0, Map.of("webhooks", "s3cret"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Path data = dir;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                broker.close();
                Infrastructure.deleteQuietly(data);
            }, "secured-kafka-stop"));
        }
        return broker;
    }

    private static KafkaSettings login() {
        return KafkaSettings.configured(broker().bootstrapServers(), LOGIN);
    }

    @BeforeAll
    static void start() {
        receiver = WebhookReceiver.start();
        publisher = KafkaPublisher.create(login(), "secured-webhook-it", Duration.ofSeconds(30));
    }

    @AfterAll
    static void stop() {
        publisher.close();
        receiver.close();
    }

    @Test
    void deliversAndLogsThroughABrokerThatTakesOnlyLogins() {
        String account = unique("acc");
        String webhookId = unique("wh");
        WebhookConfig config = new WebhookConfig(webhookId, account, receiver.url("hooks/" + webhookId), "test",
                newSecret(), true, Instant.now());
        publish(Topics.WEBHOOK_CONFIG, webhookId, Contract.toBytes(config));
        await().atMost(WAIT).until(() -> directory.find(webhookId, Duration.ZERO).blockOptional().isPresent());
        CallCommand command = command(unique("req"), account, webhookId);
        CallEvent event = CallEvent.about(command).sequence(1).status(AttemptStatus.RINGING).build();
        List<InboundRecord> logged = new CopyOnWriteArrayList<>();
        Disposable reading = KafkaSubscriber.receive(login(), "secured-it-" + UUID.randomUUID(),
                        List.of(Topics.WEBHOOK_DELIVERIES), 100)
                .subscribe(record -> {
                    logged.add(record);
                    record.acknowledge();
                });
        try {
            publish(Topics.CALL_EVENTS, command.requestId(), Contract.toBytes(event));

            await().atMost(WAIT).until(() -> !receiver.at("hooks/" + webhookId).isEmpty());
            assertThat(receiver.at("hooks/" + webhookId).get(0).header("webhook-id")).isEqualTo(event.eventId());
            await().atMost(WAIT).until(() -> logged.stream()
                    .anyMatch(record -> new String(record.value(), StandardCharsets.UTF_8).contains(event.eventId())));
        } finally {
            reading.dispose();
        }
    }

    private static void publish(String topic, String key, byte[] value) {
        publisher.publish(OutboundRecord.of(topic, key, value)).block(Duration.ofSeconds(30));
    }
}
