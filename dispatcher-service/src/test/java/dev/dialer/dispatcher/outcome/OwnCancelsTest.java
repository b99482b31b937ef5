package dev.dialer.dispatcher.outcome;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.dispatcher.callback.CarrierCallback;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OwnCancelsTest {

    @ParameterizedTest(name = "{0} {1} → looked up: {2}")
    @CsvSource(nullValues = "null", value = {
            "no-answer, 487, true",
            "no-answer, null, true",
            "failed, 487, true",
            "no-answer, 480, false",
            "busy, 486, false",
            "completed, 200, false",
            "failed, 503, false"})
    void onlyWhatACancelLooksLikeIsCheckedAgainstTheLedger(String status, Integer sip, boolean lookedUp) {
        CarrierCallback callback = new CarrierCallback("req", 1, AttemptStatus.fromWire(status), status, "sid", sip,
                null, null);

        assertThat(OwnCancels.mayBeOurCancel(callback)).isEqualTo(lookedUp);
    }
}
