package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.ofType;
import static dev.dialer.dispatcher.CallEventsJson.statusEvent;
import static dev.dialer.dispatcher.CallEventsJson.statuses;
import static dev.dialer.dispatcher.CallEventsJson.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.carrier.CallCanceller;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.simulator.SimulatorSettings;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
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
 * A cancel that comes too late, end to end: controls published on {@code dialer.call.control}, commands on
 * {@code dialer.call.commands}, the real carrier simulator over HTTP (answered calls talk long enough to be cancelled
 * while they talk), events read from {@code dialer.call.events}. The request is told with one
 * {@code call.cancel_rejected} per control, and its final is what it would have been without the cancel.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=dispatcher-service")
@DirtiesContext
class CancelTooLateIT {

    private static final String CALLER = "+4930777333";
    /** Answered by the simulator (last digit 8), then talks for {@link #TALK}. */
    private static final String ANSWERING = "+4915112345678";
    /** Busy (last digit 0): ends at once, without retry. */
    private static final String BUSY = "+4915112345670";
    /** Long enough for a cancel to be refused while the call talks, even on a busy machine. */
    private static final Duration TALK = Duration.ofSeconds(6);
    private static final Duration WAIT = Duration.ofSeconds(60);

    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, SimulatorSettings.defaults()
            .withRingTime(Duration.ofMillis(100)).withTalkTime(TALK));

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        fixture.register(registry);
    }

    @Autowired
    DatabaseClient db;

    @Autowired
    MeterRegistry meters;

    @Autowired
    CallCanceller canceller;

    @Test
    void cancelAfterTheFinalIsRejectedOnceWithTheFinalStatusEvenWhenTheControlIsActedOnAgain() {
        String account = "acc-" + UUID.randomUUID();
        String requestId = "late-" + UUID.randomUUID();
        produce(Topics.CALL_COMMANDS, CALLER, command(requestId, account, BUSY));
        assertThat(text(fixture.awaitEvent(requestId, "call.final"), "status")).isEqualTo("exhausted");
        CallControl control = cancel(account, requestId);
        double tooLateBefore = tooLate();

        produce(Topics.CALL_CONTROL, control.key(), Contract.toJson(control));

        JsonNode rejected = fixture.awaitEvent(requestId, "call.cancel_rejected");
        assertThat(text(rejected, "reason")).isEqualTo("too_late");
        assertThat(text(rejected, "status")).isEqualTo("exhausted");
        assertThat(rejected.get("attempt").get("number").intValue()).isEqualTo(1);
        assertThat(rejected.get("sequence_number").longValue())
                .isGreaterThan(fixture.awaitEvent(requestId, "call.final").get("sequence_number").longValue());
        // Counted once the control is settled, a statement after its event committed.
        await().atMost(WAIT).untilAsserted(() -> assertThat(tooLate()).isEqualTo(tooLateBefore + 1));
        long sequenceAfterRejection = nextSequence(requestId);
        // Published, so gone from the outbox: what stops a second event is not the outbox's row.
        await().atMost(WAIT).until(() -> outboxRows(requestId) == 0);

        // The claim given back (as after a failure) and the same control record read again: acted on again,
        // but its event is already stored.
        db.sql("DELETE FROM dispatch.applied_controls WHERE control_id = $1").bind(0, control.controlId())
                .then().block(WAIT);
        produce(Topics.CALL_CONTROL, control.key(), Contract.toJson(control));
        await().atMost(WAIT).until(() -> tooLate() >= tooLateBefore + 2);

        assertThat(nextSequence(requestId)).as("no second event stored").isEqualTo(sequenceAfterRejection);
        assertThat(rejections(requestId)).isEqualTo(1);
        assertThat(ofType(fixture.eventsFor(requestId), "call.cancel_rejected")).hasSize(1);
        assertThat(ofType(fixture.eventsFor(requestId), "call.final")).hasSize(1);
    }

    @Test
    void cancelWhileTheCallIsAnsweredLeavesItTalkingAndEndsAnswered() {
        String account = "acc-" + UUID.randomUUID();
        String requestId = "talk-" + UUID.randomUUID();
        produce(Topics.CALL_COMMANDS, CALLER, command(requestId, account, ANSWERING));
        await().atMost(WAIT).until(() -> statuses(fixture.eventsFor(requestId)).contains("in-progress"));
        CallControl control = cancel(account, requestId);

        produce(Topics.CALL_CONTROL, control.key(), Contract.toJson(control));

        JsonNode rejected = fixture.awaitEvent(requestId, "call.cancel_rejected");
        assertThat(text(rejected, "reason")).isEqualTo("too_late");
        assertThat(text(rejected, "status")).isEqualTo("in-progress");
        assertThat(ofType(fixture.eventsFor(requestId), "call.final")).isEmpty();
        JsonNode last = fixture.awaitEvent(requestId, "call.final");
        assertThat(text(last, "status")).isEqualTo("answered");
        assertThat(statuses(fixture.eventsFor(requestId))).endsWith("in-progress", "completed");
        assertThat(cancelRequested(requestId)).isFalse();
    }

    @Test
    void aCancelThatCrossesTheAnswerDoesNotHangUpAndTheCallEndsAnswered() {
        String account = "acc-" + UUID.randomUUID();
        String requestId = "cross-" + UUID.randomUUID();
        produce(Topics.CALL_COMMANDS, CALLER, command(requestId, account, ANSWERING));
        await().atMost(WAIT).until(() -> statuses(fixture.eventsFor(requestId)).contains("in-progress"));

        // As a cancel acted on while the call still rang, whose order reaches the carrier once it is answered.
        db.sql("UPDATE dispatch.requests SET cancel_requested_at = now() WHERE request_id = $1").bind(0, requestId)
                .then().block(WAIT);
        assertThat(canceller.cancel(new CallRef(requestId, 1, providerCallId(requestId))).block(WAIT))
                .as("found answered, left to talk: the cancel is late").isTrue();

        JsonNode last = fixture.awaitEvent(requestId, "call.final");
        assertThat(text(last, "status")).as("a person was on the line").isEqualTo("answered");
        assertThat(statuses(fixture.eventsFor(requestId))).endsWith("in-progress", "completed");
        JsonNode completed = statusEvent(fixture.eventsFor(requestId), "completed");
        assertThat(completed.get("duration_seconds").intValue()).as("it talked its full time")
                .isGreaterThanOrEqualTo((int) TALK.toSeconds() - 1);
    }

    private String providerCallId(String requestId) {
        return db.sql("SELECT provider_call_id FROM dispatch.attempts WHERE request_id = $1 AND attempt_no = 1")
                .bind(0, requestId).map(row -> row.get(0, String.class)).one().block(WAIT);
    }

    private long nextSequence(String requestId) {
        return db.sql("SELECT next_sequence FROM dispatch.requests WHERE request_id = $1")
                .bind(0, requestId).map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    private long outboxRows(String requestId) {
        return db.sql("SELECT count(*) FROM dispatch.outbox WHERE request_id = $1")
                .bind(0, requestId).map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    private long rejections(String requestId) {
        return db.sql("SELECT count(*) FROM dispatch.cancel_rejections WHERE request_id = $1")
                .bind(0, requestId).map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    private boolean cancelRequested(String requestId) {
        return db.sql("SELECT cancel_requested_at IS NOT NULL FROM dispatch.requests WHERE request_id = $1")
                .bind(0, requestId).map(row -> row.get(0, Boolean.class)).one().block(WAIT);
    }

    private double tooLate() {
        return meters.counter("dialer.dispatcher.controls", "action", "cancel", "outcome", "too_late").count();
    }

    private static CallControl cancel(String account, String requestId) {
        return new CallControl(CallControl.VERSION, UUID.randomUUID().toString(), CallControl.Action.CANCEL,
                CallControl.Scope.REQUEST, account, requestId, null, Instant.now());
    }

    private static String command(String requestId, String account, String to) {
        return """
                {"version":1,"request_id":"%s","account_id":"%s","caller_id":"%s","to":"%s",
                 "audio":"welcome.wav","created_at":"%s"}""".formatted(requestId, account, CALLER, to, Instant.now());
    }

    private static void produce(String topic, String key, String value) {
        fixture.send(new ProducerRecord<>(topic, key, value));
    }
}
