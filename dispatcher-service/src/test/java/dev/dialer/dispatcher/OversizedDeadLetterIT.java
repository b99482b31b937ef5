package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.DispatcherFixture.shortCalls;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.TopicProvisioner;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.policy.DialGate;
import dev.dialer.infra.Infrastructure;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Commands the dispatcher cannot handle reach the DLQ and the consumer goes on with the next command: a bad command
 * whose DLQ copy is larger than the dispatcher's producer may send (here it sends records of at most 64 KiB), its copy
 * cut to fit and marked, naming where the whole record is; and a valid one whose handling fails with a defect.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=dispatcher-service")
@DirtiesContext
class OversizedDeadLetterIT {

    private static final int PRODUCER_LIMIT = 64 * 1024;
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, shortCalls())
            .tailing(Topics.CALL_COMMANDS, Topics.CALL_EVENTS, Topics.CALL_COMMANDS_DLQ);

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        fixture.register(registry);
    }

    @Autowired
    MeterRegistry meters;

    @Test
    void aBadCommandTooLargeToCopyWholeReachesTheDlqCutAndMarkedAndTheNextCommandIsDialled() {
        String caller = "+4930" + ThreadLocalRandom.current().nextInt(1_000_000, 9_999_999);
        String requestId = "it-" + UUID.randomUUID();
        String bad = "not a command ".repeat(15_000);
        fixture.produce(caller, bad);
        fixture.produce(caller, command(requestId, caller));

        // The two topics are tailed side by side: the copy may be read before its source.
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(fixture.records(Topics.CALL_COMMANDS_DLQ, caller)).hasSize(1);
            assertThat(fixture.records(Topics.CALL_COMMANDS, caller)).isNotEmpty();
        });
        ConsumerRecord<String, String> source = fixture.records(Topics.CALL_COMMANDS, caller).get(0);
        ConsumerRecord<String, String> dead = fixture.records(Topics.CALL_COMMANDS_DLQ, caller).get(0);
        assertThat(header(dead, Topics.HEADER_DLQ_TRUNCATED)).isEqualTo("true");
        assertThat(header(dead, Topics.HEADER_DLQ_ORIGINAL_SIZE)).isEqualTo(Integer.toString(bad.length()));
        assertThat(header(dead, Topics.HEADER_ERROR_CODE)).isEqualTo("not_json");
        assertThat(header(dead, Topics.HEADER_ERROR_MESSAGE)).isNotBlank();
        assertThat(header(dead, Topics.HEADER_SOURCE_TOPIC)).isEqualTo(Topics.CALL_COMMANDS);
        assertThat(header(dead, Topics.HEADER_SOURCE_PARTITION)).isEqualTo(Integer.toString(source.partition()));
        assertThat(header(dead, Topics.HEADER_SOURCE_OFFSET)).isEqualTo(Long.toString(source.offset()));
        assertThat(dead.value()).as("the value cut to fit").isNotEmpty().hasSizeLessThan(PRODUCER_LIMIT);
        assertThat(bad).startsWith(dead.value());
        // Counted once the broker acknowledged the copy, which may be after the consumer above read it.
        await().atMost(WAIT).untilAsserted(() -> assertThat(
                meters.counter("dialer.dispatcher.dlq", "code", "not_json", "copy", "truncated").count()).isEqualTo(1));

        assertThat(finals(fixture.awaitFinal(requestId))).singleElement()
                .satisfies(last -> assertThat(last.get("status").stringValue()).isEqualTo("answered"));
    }

    @Test
    void aBadRecordWhoseKeyAloneIsTooLargeToCopyReachesTheDlqWithItsKeyCutAndItsPartitionGoesOn() {
        String key = "k".repeat(100_000) + UUID.randomUUID();
        int partitions = TopicProvisioner.partitionCount(
                KafkaSettings.of(Infrastructure.shared().kafkaBootstrapServers()), Topics.CALL_COMMANDS, 10_000);
        String caller;
        do {
            caller = "+4930" + ThreadLocalRandom.current().nextInt(1_000_000, 9_999_999);
        } while (KafkaPublisher.partitionOf(caller, partitions) != KafkaPublisher.partitionOf(key, partitions));
        String requestId = "it-" + UUID.randomUUID();
        fixture.produce(key, "not a command");
        ConsumerRecord<String, String> source = await().atMost(WAIT).until(() -> fixture.records(Topics.CALL_COMMANDS)
                .stream().filter(r -> key.equals(r.key())).findFirst(), Optional::isPresent).orElseThrow();
        fixture.produce(caller, command(requestId, caller));

        await().atMost(WAIT).untilAsserted(() -> assertThat(deadLetterOf(source)).isPresent());
        ConsumerRecord<String, String> dead = deadLetterOf(source).orElseThrow();
        assertThat(key).as("the key cut to fit").startsWith(dead.key()).isNotEqualTo(dead.key());
        assertThat(dead.key()).hasSizeGreaterThan(PRODUCER_LIMIT / 2);
        assertThat(header(dead, Topics.HEADER_DLQ_KEY_ORIGINAL_SIZE)).isEqualTo(Integer.toString(key.length()));
        assertThat(header(dead, Topics.HEADER_ERROR_CODE)).isEqualTo("not_json");
        assertThat(header(dead, Topics.HEADER_DLQ_TRUNCATED)).isEqualTo("true");

        assertThat(finals(fixture.awaitFinal(requestId))).singleElement()
                .satisfies(last -> assertThat(last.get("status").stringValue()).isEqualTo("answered"));
    }

    /** The DLQ copy of {@code source}, found by the source headers whatever its key. */
    private static Optional<ConsumerRecord<String, String>> deadLetterOf(ConsumerRecord<String, String> source) {
        return fixture.records(Topics.CALL_COMMANDS_DLQ).stream()
                .filter(r -> Long.toString(source.offset()).equals(header(r, Topics.HEADER_SOURCE_OFFSET))
                        && Integer.toString(source.partition()).equals(header(r, Topics.HEADER_SOURCE_PARTITION)))
                .findFirst();
    }

    @Test
    void aValidCommandOnTheWrongPartitionTooLargeToRouteAgainReachesTheDlqAndTheNextCommandIsDialled() {
        String caller = "+4930" + ThreadLocalRandom.current().nextInt(1_000_000, 9_999_999);
        String requestId = "it-" + UUID.randomUUID();
        String large = command("it-" + UUID.randomUUID(), caller).replace("\"audio\"",
                "\"variables\":{\"script\":\"" + "x".repeat(80_000) + "\"},\"audio\"");
        // Keyed by something other than its caller ID (as a producer that keys by request would): to be re-routed.
        fixture.produce("not-a-caller-id-" + caller, large);
        fixture.produce(caller, command(requestId, caller));

        await().atMost(WAIT).untilAsserted(() ->
                assertThat(fixture.records(Topics.CALL_COMMANDS_DLQ, "not-a-caller-id-" + caller)).hasSize(1));
        ConsumerRecord<String, String> dead = fixture.records(Topics.CALL_COMMANDS_DLQ, "not-a-caller-id-" + caller)
                .get(0);
        assertThat(header(dead, Topics.HEADER_ERROR_CODE)).isEqualTo("unroutable");
        assertThat(header(dead, Topics.HEADER_ERROR_MESSAGE)).contains("re-routed");
        assertThat(header(dead, Topics.HEADER_DLQ_TRUNCATED)).isEqualTo("true");

        assertThat(finals(fixture.awaitFinal(requestId))).singleElement()
                .satisfies(last -> assertThat(last.get("status").stringValue()).isEqualTo("answered"));
    }

    @Test
    void aCommandWhoseHandlingFailsForNeitherItsContentNorAnOutageIsKeptInTheDlqAndTheNextIsDialled() {
        String caller = "+4930" + ThreadLocalRandom.current().nextInt(1_000_000, 9_999_999);
        String failing = "it-defect-" + UUID.randomUUID();
        String requestId = "it-" + UUID.randomUUID();
        DEFECTIVE.add(failing);
        fixture.produce(caller, command(failing, caller));
        fixture.produce(caller, command(requestId, caller));

        await().atMost(WAIT).untilAsserted(() ->
                assertThat(fixture.records(Topics.CALL_COMMANDS_DLQ, caller)).hasSize(1));
        ConsumerRecord<String, String> dead = fixture.records(Topics.CALL_COMMANDS_DLQ, caller).get(0);
        assertThat(header(dead, Topics.HEADER_ERROR_CODE)).isEqualTo("processing_error");
        assertThat(header(dead, Topics.HEADER_ERROR_MESSAGE)).contains("a defect");
        assertThat(dead.value()).as("whole, to replay").contains(failing);

        assertThat(finals(fixture.awaitFinal(requestId))).singleElement()
                .satisfies(last -> assertThat(last.get("status").stringValue()).isEqualTo("answered"));
        await().atMost(WAIT).untilAsserted(() -> assertThat(
                meters.counter("dialer.dispatcher.dlq", "code", "processing_error", "copy", "whole").count())
                .isEqualTo(1));
    }

    private static String command(String requestId, String callerId) {
        return """
                {"version":1,"request_id":"%s","account_id":"acc-it","caller_id":"%s","to":"+4915112345678",
                 "audio":"welcome.wav","created_at":"2025-06-01T12:00:00Z"}""".formatted(requestId, callerId);
    }

    private static String header(ConsumerRecord<String, String> record, String name) {
        Header header = record.headers().lastHeader(name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    /** Requests whose dial-time gate fails with a defect: neither the command's fault nor an outage. */
    private static final Set<String> DEFECTIVE = ConcurrentHashMap.newKeySet();

    /** The dial-time gate, wrapped in a spy that calls the real methods but for {@link #DEFECTIVE} requests. */
    @TestConfiguration(proxyBeanMethods = false)
    static class DefectiveGate {

        @Bean
        static BeanPostProcessor defectiveGate() {
            return SpiedBeans.around(DialGate.class, invocation -> {
                if (invocation.getMethod().getName().equals("clear")
                        && DEFECTIVE.contains(((CallCommand) invocation.getArgument(0)).requestId())) {
                    // Thrown, not signalled: as a defect in the code that builds the gate's pipeline would.
                    throw new IllegalStateException("a defect");
                }
                return invocation.callRealMethod();
            });
        }
    }

    /** The dispatcher's one publisher, sending records of at most {@link #PRODUCER_LIMIT}. */
    @TestConfiguration(proxyBeanMethods = false)
    static class SmallRecords {

        @Bean(destroyMethod = "close")
        @Primary
        KafkaPublisher smallRecordsPublisher(KafkaSettings settings) {
            return KafkaPublisher.create(new KafkaSettings(settings.bootstrapServers(),
                            Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, PRODUCER_LIMIT)), "it-small-records",
                    Duration.ofSeconds(30));
        }
    }
}
