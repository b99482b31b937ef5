package dev.dialer.dispatcher.carrier;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatusCode;

/** What the watchdog makes of the carrier's answer to a status query (GET of a call). */
class VoiceGatewayStatusQueryTest {

    private static final CallRef CALL = new CallRef("req-1", 1, "sid-1");

    @Test
    void aSipCodeOrDurationOutOfRangeIsNoneAsInACallback() {
        CallReport report = VoiceGatewayCarrier.report(CALL, HttpStatusCode.valueOf(200),
                "{\"call_status\":\"failed\",\"sip_status\":0,\"duration\":-1}".getBytes(StandardCharsets.UTF_8));

        assertThat(report.status()).isEqualTo(AttemptStatus.FAILED);
        assertThat(report.sipStatus()).isNull();
        assertThat(report.durationSeconds()).isNull();
    }

    @Test
    void aSipCodeAndDurationInRangeAreKept() {
        CallReport report = VoiceGatewayCarrier.report(CALL, HttpStatusCode.valueOf(200),
                "{\"call_status\":\"completed\",\"sip_status\":200,\"sip_reason\":\"OK\",\"duration\":0}"
                        .getBytes(StandardCharsets.UTF_8));

        assertThat(report.sipStatus()).isEqualTo(200);
        assertThat(report.sipReason()).isEqualTo("OK");
        assertThat(report.durationSeconds()).isZero();
        assertThat(report.providerCallId()).isEqualTo("sid-1");
    }
}
