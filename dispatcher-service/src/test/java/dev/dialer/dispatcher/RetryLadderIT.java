package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.assertStrictlyIncreasingSequence;
import static dev.dialer.dispatcher.CallEventsJson.deferred;
import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.withStatus;
import static dev.dialer.dispatcher.DispatcherFixture.shortCalls;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.AccountSettings.CallingWindow;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.policy.DialGate;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * The durable retry ladder end to end: a busy callee on the real carrier simulator, retries written to
 * {@code dispatch.schedule}, fired back through {@code dialer.call.commands} and dialled again. One interval minute
 * lasts 200 ms here.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=dispatcher-service",
        "dialer.dispatcher.retry.minute-length=PT0.2S",
        "dialer.dispatcher.retry.poll-interval=PT0.05S",
        "dialer.dispatcher.pacing.capacity-requeue-delay=PT20S"})
// Its own dispatcher must be the only one consuming commands while it runs (another test class's cached context
// would take some of them, with a different minute length).
@DirtiesContext
class RetryLadderIT {

    private static final String SECRET = "s3cret";
    private static final String CALLER = "+4930765432";
    private static final String BUSY_NUMBER = "+4915112345670";
    private static final String CAPACITY_NUMBER = "+4915112345673";
    private static final Duration MINUTE = Duration.ofMillis(200);
    private static final Duration WAIT = Duration.ofSeconds(30);

    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, shortCalls().withWebhookSecret(SECRET));

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        fixture.register(registry);
    }

    @Autowired
    DatabaseClient db;

    @Autowired
    MeterRegistry meters;

    @Autowired
    DialGate gate;

    @Test
    void busyCalleeWithIntervalFiveIsDialledThreeTimesThenExhaustedOnce() {
        String requestId = "it-" + UUID.randomUUID();
        double scheduledBefore = retries("scheduled");
        double firedBefore = retries("fired");

        fixture.produce(CALLER, command(requestId, 5, 3));
        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(fixture.callsFor(requestId)).extracting(call -> call.tag().get("attempt")).containsExactly(1, 2, 3);
        List<JsonNode> queued = withStatus(events, "queued");
        List<JsonNode> busy = withStatus(events, "busy");
        assertThat(queued).extracting(RetryLadderIT::attempt).containsExactly(1, 2, 3);
        assertThat(busy).extracting(RetryLadderIT::attempt).containsExactly(1, 2, 3);
        assertThat(events).allSatisfy(event -> assertThat(event.get("attempt").get("max").intValue()).isEqualTo(3));
        for (int i = 0; i < 2; i++) {
            JsonNode ended = busy.get(i);
            Instant nextAttemptAt = instant(ended, "next_attempt_at");
            assertThat(ended.get("will_retry").booleanValue()).isTrue();
            assertThat(ended.get("sip_status").intValue()).isEqualTo(486);
            assertThat(nextAttemptAt).isAfterOrEqualTo(instant(ended, "occurred_at").plus(MINUTE.multipliedBy(5)));
            // Never early: the next attempt is queued only once it is due.
            assertThat(instant(queued.get(i + 1), "occurred_at")).isAfterOrEqualTo(nextAttemptAt);
        }
        assertThat(busy.get(2).get("will_retry").booleanValue()).isFalse();
        assertThat(busy.get(2).has("next_attempt_at")).isFalse();
        assertThat(finals(events)).singleElement().satisfies(last -> {
            assertThat(last.get("status").stringValue()).isEqualTo("exhausted");
            assertThat(last.get("will_retry").booleanValue()).isFalse();
            assertThat(attempt(last)).isEqualTo(3);
        });
        assertThat(events.get(events.size() - 1).get("event_type").stringValue()).isEqualTo("call.final");
        assertStrictlyIncreasingSequence(events);
        assertThat(scheduleRows(requestId)).isZero();
        assertThat(attemptStatuses(requestId)).containsExactly("busy", "busy", "busy");
        assertThat(retries("scheduled")).isEqualTo(scheduledBefore + 2);
        assertThat(retries("fired")).isEqualTo(firedBefore + 2);
    }

    @Test
    void busyCalleeWithIntervalZeroIsDialledOnce() {
        String requestId = "it-" + UUID.randomUUID();

        fixture.produce(CALLER, command(requestId, 0, 3));
        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(fixture.callsFor(requestId)).hasSize(1);
        assertThat(withStatus(events, "busy")).singleElement().satisfies(busy -> {
            assertThat(busy.get("will_retry").booleanValue()).isFalse();
            assertThat(busy.get("attempt").get("max").intValue()).isEqualTo(1);
        });
        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(last.get("status").stringValue()).isEqualTo("exhausted"));
        // Nothing waits: no attempt can follow.
        assertThat(scheduleRows(requestId)).isZero();
        assertThat(attemptStatuses(requestId)).containsExactly("busy");
    }

    @Test
    void aRequestCancelledWhileItWaitsForItsSecondAttemptEndsNamingThatAttempt() {
        String requestId = "it-" + UUID.randomUUID();
        // Interval 60: the second attempt is due 12 s after the first ends; the cancel comes before.
        fixture.produce(CALLER, command(requestId, 60, 3));
        await().atMost(WAIT).until(() -> withStatus(fixture.eventsFor(requestId), "busy").size() == 1);

        fixture.send(new ProducerRecord<>(Topics.CALL_CONTROL, CallControl.requestKey(requestId),
                Contract.toJson(new CallControl(CallControl.VERSION, UUID.randomUUID().toString(),
                        CallControl.Action.CANCEL, CallControl.Scope.REQUEST, "acc-it", requestId, null,
                        Instant.now()))));
        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(fixture.callsFor(requestId)).hasSize(1);
        assertThat(finals(events)).singleElement().satisfies(last -> {
            assertThat(last.get("status").stringValue()).isEqualTo("canceled");
            assertThat(attempt(last)).as("the attempt it waited for, after attempt 1's events").isEqualTo(2);
        });
        assertStrictlyIncreasingSequence(events);
        assertThat(scheduleRows(requestId)).isZero();
    }

    @Test
    void aRetryThatWouldNotBeDueBeforeValidUntilIsNotScheduledAndTheRequestExpiresAtOnce() {
        String requestId = "it-" + UUID.randomUUID();
        // Interval 60: the next attempt would be due 12 s after the first ends, after the request's valid_until.
        String expiring = command(requestId, 60, 3).replace("\"created_at\"",
                "\"valid_until\":\"" + Instant.now().plusSeconds(10) + "\",\"created_at\"");

        fixture.produce(CALLER, expiring);
        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(fixture.callsFor(requestId)).hasSize(1);
        assertThat(withStatus(events, "busy")).singleElement().satisfies(busy -> {
            assertThat(busy.get("will_retry").booleanValue()).isFalse();
            assertThat(busy.has("next_attempt_at")).isFalse();
        });
        assertThat(finals(events)).singleElement().satisfies(last -> {
            assertThat(last.get("status").stringValue()).isEqualTo("expired");
            assertThat(last.get("reason").stringValue()).isEqualTo("valid_until");
            assertThat(last.get("error").get("code").stringValue()).isEqualTo("valid_until");
        });
        assertThat(scheduleRows(requestId)).isZero();
    }

    @Test
    void aCapacityRequeueThatWouldNotBeDueBeforeValidUntilIsNotMadeAndTheRequestExpiresAtOnce() {
        String requestId = "it-" + UUID.randomUUID();
        // The simulator rejects this number for capacity; a requeue waits 20 s here, past the request's valid_until.
        String expiring = command(requestId, 5, 3).replace(BUSY_NUMBER, CAPACITY_NUMBER).replace("\"created_at\"",
                "\"valid_until\":\"" + Instant.now().plusSeconds(10) + "\",\"created_at\"");

        fixture.produce(CALLER, expiring);
        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(fixture.callsFor(requestId)).hasSize(1);
        assertThat(deferred(events)).as("no requeue announced that would never be dialled").isEmpty();
        assertThat(finals(events)).singleElement().satisfies(last -> {
            assertThat(last.get("status").stringValue()).isEqualTo("expired");
            assertThat(last.get("reason").stringValue()).isEqualTo("valid_until");
            assertThat(last.get("error").get("code").stringValue()).isEqualTo("valid_until");
        });
        assertThat(scheduleRows(requestId)).isZero();
    }

    @Test
    void aCapacityRequeueDueAfterTheWindowClosesIsNotMadeWhenValidUntilComesBeforeTheWindowOpensAgain() {
        String requestId = "it-" + UUID.randomUUID();
        String account = "acc-" + UUID.randomUUID();
        // Open for 15 s more in Berlin (the callee's zone); a requeue would be due in 20 s, when it has closed until
        // tomorrow, and valid_until (60 s) comes first. valid_until alone would let the requeue be announced.
        LocalTime nowInBerlin = Instant.now().atZone(ZoneId.of("Europe/Berlin")).toLocalTime()
                .truncatedTo(ChronoUnit.SECONDS);
        LocalTime start = nowInBerlin.minusHours(1);
        fixture.send(new ProducerRecord<>(Topics.ACCOUNT_CONFIG, account, Contract.toJson(new AccountSettings(
                AccountSettings.VERSION, account, null, new CallingWindow(start, nowInBerlin.plusSeconds(15)),
                List.of(), null, List.of(), null, Instant.now()))));
        String expiring = command(requestId, 5, 3).replace(BUSY_NUMBER, CAPACITY_NUMBER)
                .replace("acc-it", account).replace("\"created_at\"",
                        "\"valid_until\":\"" + Instant.now().plusSeconds(60) + "\",\"created_at\"");
        CallCommand command = Contract.read(expiring.getBytes(StandardCharsets.UTF_8), CallCommand.class);
        await().atMost(WAIT).until(() -> gate.expiresBy(command, Instant.now().plusSeconds(25)));

        fixture.produce(CALLER, expiring);
        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(fixture.callsFor(requestId)).as("dialled while the window was open").hasSize(1);
        assertThat(deferred(events)).as("no requeue announced that could only expire").isEmpty();
        assertThat(finals(events)).singleElement().satisfies(last -> {
            assertThat(last.get("status").stringValue()).isEqualTo("expired");
            assertThat(last.get("reason").stringValue()).isEqualTo("valid_until");
        });
        assertThat(scheduleRows(requestId)).isZero();
    }

    @Test
    void retryFiredAgainAfterACrashBeforeItsRowWasDeletedIsNotDialledTwice() {
        String requestId = "it-" + UUID.randomUUID();
        double firedBefore = retries("fired");
        double duplicatesBefore = meters.counter("dialer.dispatcher.commands", "outcome", "duplicate").count();

        fixture.produce(CALLER, command(requestId, 15, 3));
        await().atMost(WAIT).until(() -> withStatus(fixture.eventsFor(requestId), "queued").size() == 2
                && retries("fired") >= firedBefore + 1);
        // What a crash between publishing attempt 2 and deleting its row leaves behind, lease lapsed.
        db.sql("""
                        INSERT INTO dispatch.schedule (request_id, attempt_no, due_at, reason, command, lease_until)
                        SELECT request_id, 2, now() - interval '1 second', 'retry', command, now() - interval '1 second'
                          FROM dispatch.requests WHERE request_id = $1""")
                .bind(0, requestId).fetch().rowsUpdated().block(WAIT);

        await().atMost(WAIT).until(() -> meters.counter("dialer.dispatcher.commands", "outcome", "duplicate").count()
                > duplicatesBefore);
        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(fixture.callsFor(requestId)).extracting(call -> call.tag().get("attempt")).containsExactly(1, 2, 3);
        assertThat(withStatus(events, "queued")).extracting(RetryLadderIT::attempt).containsExactly(1, 2, 3);
        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(last.get("status").stringValue()).isEqualTo("exhausted"));
        assertThat(retries("fired")).isEqualTo(firedBefore + 3);
        assertThat(scheduleRows(requestId)).isZero();
    }

    private static int attempt(JsonNode event) {
        return event.get("attempt").get("number").intValue();
    }

    private static Instant instant(JsonNode event, String field) {
        return Instant.parse(event.get(field).stringValue());
    }

    private long scheduleRows(String requestId) {
        return db.sql("SELECT count(*) FROM dispatch.schedule WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    private List<String> attemptStatuses(String requestId) {
        return db.sql("SELECT status FROM dispatch.attempts WHERE request_id = $1 ORDER BY attempt_no")
                .bind(0, requestId)
                .map(row -> row.get(0, String.class)).all().collectList().block(WAIT);
    }

    private double retries(String stage) {
        return meters.counter("dialer.dispatcher.retries", "stage", stage, "reason", "retry").count();
    }

    private static String command(String requestId, int intervalMinutes, int maxAttempts) {
        return """
                {"version":1,"request_id":"%s","account_id":"acc-it","caller_id":"%s","to":"%s",
                 "audio":"welcome.wav","campaign":"it","interval_minutes":%d,"max_attempts":%d,
                 "created_at":"2025-06-01T12:00:00Z"}""".formatted(requestId, CALLER, BUSY_NUMBER, intervalMinutes,
                maxAttempts);
    }
}
