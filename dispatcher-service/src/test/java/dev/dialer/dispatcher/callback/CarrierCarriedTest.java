package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.dispatcher.outcome.Outcome;
import dev.dialer.dispatcher.outcome.Verdict;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which attempt ends grow a trunk's concurrency limit back after a capacity rejection shrank it; which halve it. */
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

    @ParameterizedTest(name = "{0} inferred from {1} grows the limit: {2}")
    @CsvSource({
            "canceled, queued, false",
            "canceled, initiated, false",
            "canceled, ringing, true",
            "no-answer, ringing, true",
            "completed, in-progress, true"})
    void anEndTheWatchdogInferredGrowsTheLimitOnlyForACallTheCarrierRang(String status, String from, boolean grows) {
        AttemptStatus attemptStatus = AttemptStatus.fromWire(status);
        CarrierCallback callback = new CarrierCallback("r", 1, attemptStatus, status, "call-1", null, null, null,
                null, null, 1, false, true, AttemptStatus.fromWire(from));
        Verdict verdict = attemptStatus == AttemptStatus.CANCELED ? Verdict.CANCELED
                : attemptStatus == AttemptStatus.COMPLETED ? Verdict.ANSWERED : Verdict.RETRYABLE;

        assertThat(CallbackApplier.carrierCarried(callback, new Outcome(verdict, attemptStatus))).isEqualTo(grows);
    }

    @ParameterizedTest(name = "{0} {1} \"{2}\" ending {3} halves the limit: {4}")
    @CsvSource(nullValues = "none", value = {
            "failed, 503, Max Account Calls In Progress, CAPACITY, true",
            // A cancel reached the request meanwhile: the attempt ends canceled, but the carrier still had no room.
            "failed, 503, Max Account Calls In Progress, CANCELED, true",
            "failed, 429, Too Many Requests, CANCELED, true",
            "failed, 503, Service Unavailable, CANCELED, false",
            "no-answer, 487, Request Terminated, CANCELED, false",
            "completed, 200, OK, ANSWERED, false"})
    void aCapacityRefusalHalvesTheLimitHoweverTheAttemptEnds(String status, Integer sip, String reason,
                                                              Verdict verdict, boolean halves) {
        AttemptStatus attemptStatus = AttemptStatus.fromWire(status);
        CarrierCallback callback = new CarrierCallback("r", 1, attemptStatus, status, "call-1", sip, reason, null,
                null, null, 1);
        AttemptStatus ended = verdict == Verdict.CANCELED ? AttemptStatus.CANCELED : attemptStatus;

        assertThat(CallbackApplier.capacityRejected(callback, new Outcome(verdict, ended))).isEqualTo(halves);
    }
}
