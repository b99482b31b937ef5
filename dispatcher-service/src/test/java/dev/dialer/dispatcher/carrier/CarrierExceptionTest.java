package dev.dialer.dispatcher.carrier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.http.HttpStatus;

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
            "REJECTED,    520,  may be placed",
            "REJECTED,    524,  may be placed",
            "REJECTED,    521,  not placed",
            "REJECTED,    522,  not placed",
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

    /**
     * A 503 is not placed, unless it is a proxy's (Envoy's) saying it lost the request after forwarding it: jambonz
     * may have placed the call, and dialling it again or elsewhere would ring the callee twice.
     */
    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', value = {
            "upstream connect error or disconnect/reset before headers. reset reason: connection termination"
                    + "| may be placed",
            "upstream connect error or disconnect/reset before headers. reset reason: remote reset | may be placed",
            "upstream connect error or disconnect/reset before headers. reset reason: connection failure | not placed",
            "upstream connect error or disconnect/reset before headers. retried and the latest reset reason: remote "
                    + "connection failure, transport failure reason: delayed connect error: 111 | not placed",
            "upstream connect error or disconnect/reset before headers. reset reason: overflow | not placed",
            "no healthy upstream | not placed",
            "{\"msg\":\"no feature server available\"} | not placed"})
    void aProxysAnswerThatItLostTheForwardedRequestMayHavePlacedTheCall(String answer, String expected) {
        CarrierException failure = catchThrowableOfType(CarrierException.class, () -> VoiceGatewayCarrier.placedCall(
                HttpStatus.SERVICE_UNAVAILABLE, answer.getBytes(StandardCharsets.UTF_8)));

        assertThat(failure.httpStatus()).isEqualTo(503);
        assertThat(failure.mayHaveBeenPlaced()).as("may be placed").isEqualTo(expected.equals("may be placed"));
        assertThat(failure.isTechnical()).as("not placed").isEqualTo(expected.equals("not placed"));
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

    /**
     * jambonz answers a key of another account than the path's sid with a 400 whose message says so: a refusal of the
     * dialer's credentials, which waits as a 401 does, not a refusal of the call that ends it failed.
     */
    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', value = {
            "{\"msg\":\"unauthorized createCall request for account AC2\"} | credentials",
            "{\"msg\":\"missing from parameter\"} | refused",
            "{\"msg\":\"application_sid not found\"} | refused"})
    void aCreateCallRefusedWithAnotherAccountsKeyIsACredentialsRefusal(String answer, String expected) {
        CarrierException failure = catchThrowableOfType(CarrierException.class, () -> VoiceGatewayCarrier.placedCall(
                HttpStatus.BAD_REQUEST, answer.getBytes(StandardCharsets.UTF_8)));

        assertThat(failure.httpStatus()).isEqualTo(400);
        assertThat(failure.isCredentialsRefusal()).isEqualTo(expected.equals("credentials"));
        assertThat(failure.isTechnical()).as("not placed, and waits").isEqualTo(expected.equals("credentials"));
        assertThat(failure.mayHaveBeenPlaced()).isFalse();
        assertThat(failure.from("backup").isCredentialsRefusal()).as("named by its carrier")
                .isEqualTo(expected.equals("credentials"));
    }
}
