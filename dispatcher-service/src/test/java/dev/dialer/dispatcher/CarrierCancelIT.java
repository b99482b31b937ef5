package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.statusEvent;
import static dev.dialer.dispatcher.CallEventsJson.statuses;
import static dev.dialer.dispatcher.CallEventsJson.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.dispatcher.carrier.CallCanceller;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.simulator.SimulatorSettings;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
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
 * A call the dialer cancels itself, against the real simulator: the carrier reports the 487 as {@code no-answer}, the
 * ledger knows the cancel was ours, so the attempt ends {@code canceled} and the request with one final
 * {@code canceled}.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=dispatcher-service")
@DirtiesContext
class CarrierCancelIT {

    private static final String CALLER = "+4930777111";
    private static final Duration WAIT = Duration.ofSeconds(60);

    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, SimulatorSettings.defaults()
            .withRingTime(Duration.ofSeconds(30)));

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        fixture.register(registry);
    }

    @Autowired
    CallCanceller canceller;

    @Autowired
    DatabaseClient db;

    @Test
    void ringingCallThatWeCancelEndsCanceledNotNoAnswerAndIsNotRetried() {
        String requestId = "cc-" + UUID.randomUUID();
        // Numbers ending in 1 ring until the request's timeout (60 s): long enough to cancel them first.
        fixture.produce(CALLER, command(requestId, "+4915112345671"));
        await().atMost(WAIT).until(() -> statuses(fixture.eventsFor(requestId)).contains("ringing")
                && callSid(requestId) != null);

        assertThat(canceller.cancel(new CallRef(requestId, 1, callSid(requestId))).block(WAIT))
                .as("asked to cancel a ringing call").isFalse();

        List<JsonNode> events = fixture.awaitFinal(requestId);
        assertThat(statuses(events)).containsExactly("queued", "initiated", "ringing", "canceled");
        JsonNode canceled = statusEvent(events, "canceled");
        assertThat(text(canceled, "provider_status")).isEqualTo("no-answer");
        assertThat(canceled.get("sip_status").intValue()).isEqualTo(487);
        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("canceled"));
        // The request allows three attempts five minutes apart: a no-answer would have scheduled the next one.
        assertThat(db.sql("SELECT count(*) FROM dispatch.schedule WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, Long.class)).one().block(WAIT)).isZero();
        assertThat(db.sql("SELECT count(*) FROM dispatch.attempts WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, Long.class)).one().block(WAIT)).isEqualTo(1);
    }

    private String callSid(String requestId) {
        return db.sql("SELECT provider_call_id FROM dispatch.attempts WHERE request_id = $1 AND attempt_no = 1")
                .bind(0, requestId)
                .map(row -> java.util.Optional.ofNullable(row.get(0, String.class)))
                .one()
                .block(WAIT)
                .orElse(null);
    }

    private static String command(String requestId, String to) {
        return """
                {"version":1,"request_id":"%s","account_id":"acc-wd","caller_id":"%s","to":"%s",
                 "audio":"welcome.wav","campaign":"wd","interval":5,"max_attempts":3,"created_at":"%s"}""".formatted(requestId, CALLER, to,
                Instant.now());
    }
}
