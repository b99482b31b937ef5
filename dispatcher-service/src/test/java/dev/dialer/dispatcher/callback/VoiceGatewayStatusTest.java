package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class VoiceGatewayStatusTest {

    @ParameterizedTest(name = "{0} → {1}")
    @CsvSource({
            "trying, initiated",
            "ringing, ringing",
            "early-media, ringing",
            "in-progress, in-progress",
            "completed, completed",
            "busy, busy",
            "no-answer, no-answer",
            "failed, failed"})
    void mapsJambonzCallStatusToAttemptStatus(String callStatus, String attemptStatus) {
        assertThat(VoiceGatewayStatus.toAttemptStatus(callStatus)).contains(AttemptStatus.fromWire(attemptStatus));
    }

    @Test
    void undocumentedStatusMapsToNothing() {
        assertThat(VoiceGatewayStatus.toAttemptStatus("queued")).isEmpty();
        assertThat(VoiceGatewayStatus.toAttemptStatus(null)).isEmpty();
    }
}
