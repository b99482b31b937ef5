package dev.dialer.dispatcher;

import dev.dialer.infra.FreePorts;
import dev.dialer.simulator.CarrierSimulator;
import dev.dialer.simulator.SimulatorSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A dispatcher whose carrier is down at first: its base URL is a port where nothing listens until a test starts the
 * simulator there ({@link #carrierComesBack}). Subclasses add the breaker and wait settings they test.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=dispatcher-service")
@DirtiesContext
abstract class CarrierDown {

    static final Duration WAIT = Duration.ofSeconds(60);
    /** Where the carrier's base URL points. */
    static final int CARRIER_PORT = FreePorts.find();

    /** Once back, the carrier answers after a short ring. */
    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrierDown(WAIT, SimulatorSettings.defaults()
            .withPort(CARRIER_PORT).withRingTime(Duration.ofMillis(100)).withTalkTime(Duration.ofMillis(100)));

    @Autowired
    DatabaseClient db;

    @DynamicPropertySource
    static void carrierDown(DynamicPropertyRegistry registry) {
        fixture.register(registry);
        registry.add("dialer.dispatcher.retry.carrier-unavailable-delay", () -> "PT1S");
        registry.add("dialer.dispatcher.retry.poll-interval", () -> "PT0.2S");
    }

    /** Starts the simulator where the carrier's base URL points. */
    static CarrierSimulator carrierComesBack() {
        return fixture.startCarrier();
    }

    static void send(String callerId, String requestId) {
        send(callerId, requestId, "");
    }

    /** A request that ends by {@code validUntil} whatever happens. */
    static void send(String callerId, String requestId, Instant validUntil) {
        send(callerId, requestId, "\"valid_until\":\"" + validUntil + "\",");
    }

    private static void send(String callerId, String requestId, String extraFields) {
        fixture.produce(callerId, command(callerId, requestId, "acc-down", extraFields));
    }

    /** A command to a callee in Berlin, by {@code validUntil}. */
    static String command(String callerId, String requestId, String account, Instant validUntil) {
        return command(callerId, requestId, account, "\"valid_until\":\"" + validUntil + "\",");
    }

    private static String command(String callerId, String requestId, String account, String extraFields) {
        return """
                {"version":1,"request_id":"%s","account_id":"%s","caller_id":"%s","to":"+4915112345678",
                 "audio":"welcome.wav","campaign":"down",%s"created_at":"%s"}""".formatted(requestId, account,
                callerId, extraFields, Instant.now());
    }

    /** The request's attempts the ledger counts as dialled (the carrier asked: the per-callee cap counts them). */
    List<Integer> askedAttempts(String requestId) {
        return db.sql("SELECT attempt_no FROM dispatch.attempts WHERE request_id = $1 AND carrier_asked_at IS NOT NULL")
                .bind(0, requestId)
                .map(row -> row.get(0, Integer.class))
                .all()
                .collectList()
                .block(WAIT);
    }

    List<String> attempts(String requestId) {
        return db.sql("SELECT attempt_no, status FROM dispatch.attempts WHERE request_id = $1 ORDER BY attempt_no")
                .bind(0, requestId)
                .map(row -> row.get(0, Integer.class) + ":" + row.get(1, String.class))
                .all()
                .collectList()
                .block(WAIT);
    }
}
