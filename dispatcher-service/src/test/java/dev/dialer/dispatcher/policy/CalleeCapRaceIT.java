package dev.dialer.dispatcher.policy;

import static dev.dialer.dispatcher.CallEventsJson.ofType;
import static dev.dialer.dispatcher.DispatcherFixture.shortCalls;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.AccountSettings.CallingWindow;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.DispatcherFixture;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import tools.jackson.databind.JsonNode;

/**
 * The per-callee cap against calls to one callee that pass the dial-time policy together: two commands for the same
 * number under different caller IDs (two lanes, as two campaigns sharing a list would send them), with a cap of one
 * call a day, are held until both gates have counted the callee's dials (none yet), so both reach their claims with
 * the cap looking free. End to end: the commands on {@code dialer.call.commands}, the carrier simulator over HTTP,
 * events read from {@code dialer.call.events}.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=dispatcher-service")
@DirtiesContext
class CalleeCapRaceIT {

    private static final Duration WAIT = Duration.ofSeconds(40);
    /** Answered by the simulator (last digit 8). */
    private static final String CALLEE = "+4915112345678";
    private static final String RACED_ACCOUNT = "acc-" + UUID.randomUUID();

    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, shortCalls());

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        fixture.register(registry);
    }

    @TestConfiguration
    static class BothGatesCountFirst {

        @Bean
        @Primary
        PolicyLedger racedLedger(DatabaseClient db) {
            return new RacedLedger(db);
        }
    }

    /**
     * The ledger, except that the first two counts of the raced account's dials (one by each command's gate) finish
     * only together: neither command goes on to its claim before the other's gate has counted.
     */
    static final class RacedLedger extends PolicyLedger {

        private final AtomicInteger started = new AtomicInteger();
        private final AtomicInteger counted = new AtomicInteger();
        private final Sinks.Empty<Void> bothCounted = Sinks.empty();

        RacedLedger(DatabaseClient db) {
            super(db);
        }

        @Override
        Flux<Instant> dialsSince(String accountId, String callee, Instant since) {
            Flux<Instant> dials = super.dialsSince(accountId, callee, since);
            if (!RACED_ACCOUNT.equals(accountId)) {
                return dials;
            }
            return Flux.defer(() -> started.incrementAndGet() > 2 ? dials : dials.collectList().flatMapMany(read -> {
                if (counted.incrementAndGet() == 2) {
                    bothCounted.tryEmitEmpty();
                }
                return bothCounted.asMono().timeout(WAIT).thenMany(Flux.fromIterable(read));
            }));
        }
    }

    @Autowired
    DatabaseClient db;

    @Autowired
    MeterRegistry meters;

    @Autowired
    PolicyViews views;

    @Test
    void ofTwoCallsThatPassTheGateTogetherUnderACapOfOneOnlyOneIsDialledAndTheOtherWaitsForTheCap() {
        publishSettings(RACED_ACCOUNT, 1);
        await().atMost(WAIT).until(() -> Integer.valueOf(1).equals(views.settingsOf(RACED_ACCOUNT).perCalleeDailyCap()));
        double deferredBefore = decisions("defer", "callee_cap");
        double dialsBefore = decisions("dial", "none");
        String first = "it-" + UUID.randomUUID();
        String second = "it-" + UUID.randomUUID();

        produceCommand(first, "+4930555101");
        produceCommand(second, "+4930555102");

        await().atMost(WAIT).until(() -> handled(first) && handled(second));
        List<String> dialled = List.of(first, second).stream()
                .filter(request -> !fixture.callsFor(request).isEmpty()).toList();
        assertThat(dialled).as("requests the carrier was asked to call").hasSize(1);
        String held = dialled.contains(first) ? second : first;
        assertThat(fixture.callsFor(dialled.get(0))).hasSize(1);
        assertThat(fixture.callsFor(held)).isEmpty();

        JsonNode deferred = fixture.awaitEvent(held, "call.deferred");
        assertThat(deferred.get("reason").stringValue()).isEqualTo("callee_cap");
        assertThat(Instant.parse(deferred.get("next_attempt_at").stringValue()))
                .isEqualTo(carrierAskedAt(dialled.get(0)).plus(Duration.ofHours(24)));
        assertThat(ofType(fixture.eventsFor(held), "call.final")).isEmpty();
        assertThat(fixture.eventsFor(held)).as("recorded, then made to wait")
                .extracting(event -> event.get("event_type").stringValue() + " " + event.get("status").stringValue())
                .containsExactly("call.status queued", "call.deferred deferred");
        assertThat(scheduleReasons(held)).containsExactly("cap");
        assertThat(db.sql("SELECT requeued AND carrier_asked_at IS NULL FROM dispatch.attempts WHERE request_id = $1")
                .bind(0, held).map(row -> row.get(0, Boolean.class)).one().block(WAIT))
                .as("its attempt waits to be dialled under its number").isTrue();
        // Counted once the deferral is committed, which may be after its event is read.
        await().atMost(WAIT).untilAsserted(() ->
                assertThat(decisions("defer", "callee_cap")).isEqualTo(deferredBefore + 1));
        assertThat(decisions("dial", "none")).as("both passed the gate; the claim let one through")
                .isEqualTo(dialsBefore + 1);
    }

    /** Whether the request was dialled and ended, or made to wait. */
    private static boolean handled(String requestId) {
        List<JsonNode> events = fixture.eventsFor(requestId);
        return !ofType(events, "call.final").isEmpty() || !ofType(events, "call.deferred").isEmpty();
    }

    private Instant carrierAskedAt(String requestId) {
        return db.sql("SELECT carrier_asked_at FROM dispatch.attempts WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, Instant.class)).one().block(WAIT);
    }

    private List<String> scheduleReasons(String requestId) {
        return db.sql("SELECT reason FROM dispatch.schedule WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, String.class)).all().collectList().block(WAIT);
    }

    private double decisions(String verdict, String reason) {
        return meters.counter("dialer.dispatcher.policy.decisions", "verdict", verdict, "reason", reason).count();
    }

    private static void publishSettings(String account, Integer cap) {
        fixture.send(new ProducerRecord<>(Topics.ACCOUNT_CONFIG, account, Contract.toJson(new AccountSettings(
                AccountSettings.VERSION, account, null, CallingWindow.ALWAYS, List.of(), null, List.of(), cap,
                Instant.now()))));
    }

    private static void produceCommand(String requestId, String callerId) {
        fixture.produce(callerId, """
                {"version":1,"request_id":"%s","account_id":"%s","caller_id":"%s","to":"%s",
                 "audio":"welcome.wav","interval_minutes":0,"created_at":"%s"}""".formatted(requestId, RACED_ACCOUNT,
                callerId, CALLEE, Instant.now()));
    }
}
