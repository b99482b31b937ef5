package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import java.util.List;
import org.junit.jupiter.api.Test;

class SipStatusReportsTest {

    private static final String CALLER = "+4930777004";

    /** Every status the SIP trunk carrier reports (SipCall), as the owner reads it back from the callbacks topic. */
    private static final List<CarrierCallback> STATUSES = List.of(
            status(AttemptStatus.INITIATED, "trying", null, null, null),
            status(AttemptStatus.RINGING, "ringing", 180, null, null),
            status(AttemptStatus.RINGING, "early-media", 183, null, null),
            status(AttemptStatus.IN_PROGRESS, "in-progress", 200, "OK", null),
            status(AttemptStatus.COMPLETED, "completed", null, null, 42),
            status(AttemptStatus.BUSY, "busy", 486, "Busy Here", null),
            status(AttemptStatus.FAILED, "failed", 404, "Not Found", null),
            status(AttemptStatus.FAILED, "failed", null, "no response from the trunk", null),
            status(AttemptStatus.NO_ANSWER, "no-answer", 487, "Request Terminated", null),
            status(AttemptStatus.CANCELED, "canceled", 200, "answered as we cancelled", null));

    private static CarrierCallback status(AttemptStatus status, String raw, Integer sip, String reason,
                                          Integer duration) {
        return new CarrierCallback("r-1", 2, status, raw, "call-1@10.0.0.1", sip, reason, duration);
    }

    @Test
    void aStatusAppendedForTheOwnerIsReadBackAsItWasReported() {
        for (CarrierCallback reported : STATUSES) {
            JambonzCallbackReader.Parsed parsed = JambonzCallbackReader.read(SipStatusReports.body(reported, CALLER));

            assertThat(parsed.callerId()).isEqualTo(CALLER);
            assertThat(SipStatusReports.statusOf(parsed.callStatus()).map(parsed::as))
                    .as(reported.providerStatus()).contains(reported);
        }
    }

    @Test
    void theDialersOwnCanceledIsReadAsWellAsTheVoiceGatewaysStatuses() {
        assertThat(SipStatusReports.statusOf("canceled")).contains(AttemptStatus.CANCELED);
        assertThat(SipStatusReports.statusOf("early-media")).contains(AttemptStatus.RINGING);
        assertThat(SipStatusReports.statusOf("queued")).isEmpty();
        assertThat(SipStatusReports.statusOf(null)).isEmpty();
    }
}
