package dev.dialer.common.contract;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which SIP headers of a command the SIP trunk carrier adds to its INVITE as given. */
class CarrierOptionsTest {

    @ParameterizedTest
    @ValueSource(strings = {"X-Crm-Id", "User-to-User", "P-Asserted-Identity", "Privacy", "Session-Expires",
            "Diversion"})
    void aHeaderTheDialogDoesNotDependOnIsAdded(String name) {
        assertThat(CarrierOptions.isAllowedSipHeaderName(name)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"Via", "call-id", "i", "Contact", "Content-Type", "Content-Encoding", "e",
            "Content-Disposition", "Content-Language", "Require", "Supported", "k", "Proxy-Require", "RSeq", "RAck",
            "Route", "Authorization", "X-Dialer-Request-Id", "X-Dialer-Later", "X Crm"})
    void aHeaderTheDialogDependsOnOrAnExtensionTheDialerLacksIsNot(String name) {
        assertThat(CarrierOptions.isAllowedSipHeaderName(name)).isFalse();
    }
}
