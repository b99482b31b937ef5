package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.ofType;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import dev.dialer.simulator.CarrierSimulator;
import dev.dialer.simulator.ReceivedCall;
import dev.dialer.simulator.SimulatorSettings;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import tools.jackson.databind.JsonNode;

/**
 * What the integration tests that drive a dispatcher end to end share: the carrier simulator with a test class's
 * settings, the properties that point the dispatcher at the shared infrastructure and at the simulator, and, once the
 * application has started, a producer like an upstream system's and a tail on {@code dialer.call.events}. A test class
 * holds one in a static {@code @RegisterExtension} field and calls {@link #register} from its
 * {@code @DynamicPropertySource}; everything is closed after the class, and opened again for the next class that
 * shares the field.
 */
public final class DispatcherFixture implements BeforeEachCallback, AfterAllCallback {

    private final Duration wait;
    private final SimulatorSettings settings;
    private final boolean carrierUp;
    private final List<String> topics;

    private CarrierSimulator simulator;
    private TopicTail tail;
    private KafkaProducer<String, String> producer;

    private DispatcherFixture(Duration wait, SimulatorSettings settings, boolean carrierUp, List<String> topics) {
        this.wait = wait;
        this.settings = settings;
        this.carrierUp = carrierUp;
        this.topics = topics;
    }

    /** A simulator with these settings as the carrier, started when the properties are registered. */
    public static DispatcherFixture carrier(Duration wait, SimulatorSettings settings) {
        return new DispatcherFixture(wait, settings, true, List.of(Topics.CALL_EVENTS));
    }

    /**
     * A carrier that is down at first: its base URL is the settings' port, where nothing listens until
     * {@link #startCarrier} starts the simulator there.
     */
    public static DispatcherFixture carrierDown(Duration wait, SimulatorSettings settings) {
        return new DispatcherFixture(wait, settings, false, List.of(Topics.CALL_EVENTS));
    }

    /** The simulator's defaults with short calls: 100 ms of ringing, 200 ms of talk. */
    public static SimulatorSettings shortCalls() {
        return SimulatorSettings.defaults().withRingTime(Duration.ofMillis(100)).withTalkTime(Duration.ofMillis(200));
    }

    /** The same fixture tailing these topics instead of the call events alone; none, and it keeps no tail. */
    public DispatcherFixture tailing(String... topics) {
        return new DispatcherFixture(wait, settings, carrierUp, List.of(topics));
    }

    /**
     * Points the dispatcher at the shared Kafka (three partitions a topic) and PostgreSQL and at the carrier, with
     * the simulator's webhook secret when it signs its callbacks.
     */
    public void register(DynamicPropertyRegistry registry) {
        infrastructure(registry);
        String baseUrl = carrierUp ? startCarrier().baseUrl() : "http://127.0.0.1:" + settings.port();
        registry.add("dialer.dispatcher.carrier.base-url", () -> baseUrl);
        if (settings.webhookSecret() != null) {
            registry.add("dialer.dispatcher.carrier.webhook-secret", settings::webhookSecret);
        }
    }

    /**
     * Points a dispatcher at the shared Kafka (three partitions a topic) and PostgreSQL, and at nothing else; first
     * ends the calls an earlier test class left dialled in the ledger ({@link #endCallsLeftInFlight}).
     */
    public static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.Endpoints infrastructure = Infrastructure.shared();
        infrastructure.serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
        registry.add("dialer.kafka.partitions", () -> 3);
        endCallsLeftInFlight(infrastructure);
    }

    /**
     * Each test class starts with no call in flight in the shared ledger (a fork's JVM runs its classes in turn, on one
     * database): the calls an earlier class left dialled, their carrier gone with it, would be counted as calls in
     * flight on the partitions the new dispatcher gains and hold its trunk's slots until they lapsed (an hour), and a
     * trunk whose limit a capacity refusal had brought down to one would dial nothing more. Before the first class
     * there is no ledger yet, and nothing to end.
     */
    private static void endCallsLeftInFlight(Infrastructure.Endpoints infrastructure) {
        try (Connection connection = DriverManager.getConnection(infrastructure.jdbcUrl(), infrastructure.username(),
                infrastructure.password()); Statement statement = connection.createStatement()) {
            statement.executeUpdate(
                    "UPDATE dispatch.attempts SET status = 'failed' WHERE live AND carrier_asked_at IS NOT NULL");
        } catch (SQLException noLedgerYet) {
            // Migrated when the first dispatcher starts.
        }
    }

    /** Starts the simulator, unless it runs already. */
    public CarrierSimulator startCarrier() {
        if (simulator == null) {
            simulator = CarrierSimulator.start(settings);
        }
        return simulator;
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        // Lazily, once: the topics exist only once the application has started.
        if (producer == null) {
            String bootstrap = Infrastructure.shared().kafkaBootstrapServers();
            tail = topics.isEmpty() ? null : new TopicTail(bootstrap, topics);
            producer = TestKafka.producer(bootstrap);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        TestKafka.closeAll(producer, tail, simulator);
        producer = null;
        tail = null;
        simulator = null;
    }

    /** The simulator, once started. */
    public CarrierSimulator simulator() {
        return simulator;
    }

    /** The create-call requests the simulator accepted for the request, in arrival order. */
    public List<ReceivedCall> callsFor(String requestId) {
        return simulator.calls().stream().filter(call -> requestId.equals(call.tag().get("request_id"))).toList();
    }

    /** Writes a command to {@code dialer.call.commands} under {@code key}, and waits until the broker has it. */
    public void produce(String key, String command) {
        send(new ProducerRecord<>(Topics.CALL_COMMANDS, key, command));
    }

    /** Writes a record and waits until the broker has it. */
    public void send(ProducerRecord<String, String> record) {
        try {
            producer.send(record).get();
        } catch (Exception e) {
            throw new IllegalStateException("cannot produce to " + record.topic(), e);
        }
    }

    /** The records read so far from a tailed topic under {@code key}. */
    public List<ConsumerRecord<String, String>> records(String topic, String key) {
        return tail.records(topic, key);
    }

    /** The records read so far from a tailed topic, whatever their key. */
    public List<ConsumerRecord<String, String>> records(String topic) {
        return tail.all(topic);
    }

    /** The request's call events so far, in the order they were published. */
    public List<JsonNode> eventsFor(String requestId) {
        return CallEventsJson.eventsOf(tail, requestId);
    }

    /** The request's first event of this type, once it has been published. */
    public JsonNode awaitEvent(String requestId, String type) {
        await().atMost(wait).until(() -> !ofType(eventsFor(requestId), type).isEmpty());
        return ofType(eventsFor(requestId), type).get(0);
    }

    /** The request's call events, once its final has been published. */
    public List<JsonNode> awaitFinal(String requestId) {
        awaitEvent(requestId, "call.final");
        return eventsFor(requestId);
    }

    /** A {@code Jambonz-Signature} header for {@code body}, signed now with {@code secret}. */
    public static String signature(String secret, String body) {
        long now = Instant.now().getEpochSecond();
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            byte[] hmac = mac.doFinal((now + "." + body).getBytes(StandardCharsets.UTF_8));
            return "t=" + now + ",v1=" + HexFormat.of().formatHex(hmac);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
