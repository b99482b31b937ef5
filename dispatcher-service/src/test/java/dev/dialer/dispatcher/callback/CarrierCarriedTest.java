package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.dispatcher.outcome.Outcome;
import dev.dialer.dispatcher.outcome.Verdict;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which attempt ends grow a trunk's concurrency limit back after a capacity rejection shrank it (AIMD). */
class CarrierCarriedTest {

    @ParameterizedTest(name = "{0} {1} ({2}) grows the limit: {3}")
    @CsvSource(nullValues = "none", value = {
            "completed, 200, ANSWERED, true",
            "completed, none, ANSWERED, true",
            "busy, 486, RETRYABLE, true",
            "no-answer, 487, RETRYABLE, true",
            "failed, 404, UNREACHABLE, true",
            "busy, 603, DECLINED, true",
            "canceled, 487, CANCELED, true",
            "failed, 500, RETRYABLE, false",
            "failed, 503, RETRYABLE, false",
            "failed, 504, RETRYABLE, false",
            "failed, none, RETRYABLE, false",
            "failed, 0, RETRYABLE, false",
            "completed, 0, ANSWERED, true"})
    void onlyAnEndTheCalleesSideGaveGrowsTheLimit(String status, Integer sip, Verdict verdict, boolean grows) {
        AttemptStatus attemptStatus = AttemptStatus.fromWire(status);
        CarrierCallback callback = new CarrierCallback("r", 1, attemptStatus, status, "call-1", sip, null, null,
                null, null, 1);

        assertThat(CallbackApplier.carrierCarried(callback, new Outcome(verdict, attemptStatus))).isEqualTo(grows);
    }
}
