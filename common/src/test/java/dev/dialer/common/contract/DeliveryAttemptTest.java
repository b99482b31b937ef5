package dev.dialer.common.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** A delivery attempt's text is kept as a PostgreSQL {@code text} column can store it. */
class DeliveryAttemptTest {

    private static final Instant NOW = Instant.parse("2026-03-01T10:00:00Z");

    @Test
    void aNulCharacterInAnyTextBecomesAReplacementCharacter() {
        DeliveryAttempt attempt = new DeliveryAttempt(1, "att\u00001", "evt\u00001", "call\u0000final", "wh\u00001",
                "web\u0000hook", "req\u00001", "acct\u00001", 1, DeliveryAttempt.Outcome.RETRYING, 500,
                "HTTP 500\u0000", "\u001f\u008b\u0000\u0000gzip", 5, NOW.plusSeconds(60), false, false, NOW);

        assertThat(attempt.attemptId()).isEqualTo("att\uFFFD1");
        assertThat(attempt.eventId()).isEqualTo("evt\uFFFD1");
        assertThat(attempt.eventType()).isEqualTo("call\uFFFDfinal");
        assertThat(attempt.webhookId()).isEqualTo("wh\uFFFD1");
        assertThat(attempt.target()).isEqualTo("web\uFFFDhook");
        assertThat(attempt.requestId()).isEqualTo("req\uFFFD1");
        assertThat(attempt.accountId()).isEqualTo("acct\uFFFD1");
        assertThat(attempt.error()).isEqualTo("HTTP 500\uFFFD");
        assertThat(attempt.responseBody()).isEqualTo("\u001f\u008b\uFFFD\uFFFDgzip");
    }

    @Test
    void textWithoutNulAndAbsentTextAreKeptAsTheyAre() {
        DeliveryAttempt attempt = new DeliveryAttempt(1, "att-1", "evt-1", null, null, "notify_url", "req-1",
                "acct-1", 1, DeliveryAttempt.Outcome.DELIVERED, 200, null, "ok \\u0000 \u00e9", 5, null, null, null,
                NOW);

        assertThat(attempt.eventType()).isNull();
        assertThat(attempt.webhookId()).isNull();
        assertThat(attempt.error()).isNull();
        assertThat(attempt.responseBody()).isEqualTo("ok \\u0000 \u00e9");
    }

    @Test
    void anAttemptReadFromTheTopicWithANulCharacterIsStorable() {
        // As a webhook-service that published the answer as it read it would have written it.
        String json = """
                {"version":1,"attempt_id":"att-1","event_id":"evt-1","event_type":"call.final","webhook_id":"wh-1",
                 "target":"webhook","request_id":"req-1","account_id":"acct-1","attempt_no":1,"outcome":"dead",
                 "status_code":400,"error":"bad\\u0000","response_body":"{\\"error\\":\\"bad\\u0000byte\\"}",
                 "latency_ms":5,"attempted_at":"2026-03-01T10:00:00Z"}""";

        DeliveryAttempt read = Contract.read(json.getBytes(StandardCharsets.UTF_8), DeliveryAttempt.class);

        assertThat(read.responseBody()).isEqualTo("{\"error\":\"bad\uFFFDbyte\"}");
        assertThat(read.error()).isEqualTo("bad\uFFFD");
        assertThat(read.webhookId()).isEqualTo("wh-1");
    }
}
