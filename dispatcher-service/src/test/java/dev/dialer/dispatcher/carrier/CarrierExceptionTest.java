package dev.dialer.dispatcher.carrier;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Which failed create-call requests may be dialled again or elsewhere (the call was certainly not placed), which must
 * be reconciled instead (it may have been placed), and which end the attempt (the carrier refused the request).
 */
class CarrierExceptionTest {

    @ParameterizedTest(name = "{0} {1}: {2}")
    @CsvSource(nullValues = "none", value = {
            "UNREACHABLE, none, not placed",
            "TIMEOUT,     none, may be placed",
            "LOST,        none, may be placed",
            "REJECTED,    500,  may be placed",
            "REJECTED,    502,  may be placed",
            "REJECTED,    504,  may be placed",
            "REJECTED,    503,  not placed",
            "REJECTED,    501,  not placed",
            "REJECTED,    429,  not placed",
            "REJECTED,    480,  not placed",
            "REJECTED,    400,  refused",
            "REJECTED,    401,  not placed",
            "REJECTED,    403,  not placed",
            "REJECTED,    407,  not placed",
            "REJECTED,    422,  refused",
            "REJECTED,    404,  refused",
            "REJECTED,    none, refused"})
    void classifiesEachFailure(CarrierException.Reason reason, Integer httpStatus, String expected) {
        CarrierException failure = new CarrierException(reason, httpStatus, "failed", null);

        assertThat(failure.isTechnical()).as("not placed").isEqualTo(expected.equals("not placed"));
        assertThat(failure.mayHaveBeenPlaced()).as("may be placed").isEqualTo(expected.equals("may be placed"));
        assertThat(failure.isCapacityRefusal()).as("capacity").isEqualTo(Integer.valueOf(429).equals(httpStatus));
    }

    @org.junit.jupiter.api.Test
    void anUnsupportedTargetIsARefusalNamedByItsOwnCodeSoTheAttemptFailsWithoutFailoverOrRetry() {
        CarrierException failure = CarrierException.unsupportedTarget("no address for user:alice");

        assertThat(failure.reason()).isEqualTo(CarrierException.Reason.REJECTED);
        assertThat(failure.errorCode()).isEqualTo("unsupported_target");
        assertThat(failure.isTechnical()).isFalse();
        assertThat(failure.mayHaveBeenPlaced()).isFalse();
        assertThat(new CarrierException(CarrierException.Reason.REJECTED, 400, "bad", null).errorCode()).isNull();
    }
}
