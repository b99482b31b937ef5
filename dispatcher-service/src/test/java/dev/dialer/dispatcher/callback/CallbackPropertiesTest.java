package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CallbackPropertiesTest {

    @Test
    void unsetAppliesInPlaceOnlyWhereTheCarrierPostsToThisDispatchersOwnAddress() {
        CallbackProperties unset = new CallbackProperties(64, 4, null);

        assertThat(unset.appliesInPlace(null)).isTrue();
        // A configured URL may be a load balancer that spreads one call's callbacks over several dispatchers.
        assertThat(unset.appliesInPlace("https://dialer.example.com/carrier/voice-gateway/status")).isFalse();
    }

    @Test
    void aSettingWinsWhateverTheAddress() {
        assertThat(new CallbackProperties(64, 4, true).appliesInPlace("https://lb.example.com/status")).isTrue();
        assertThat(new CallbackProperties(64, 4, false).appliesInPlace(null)).isFalse();
    }
}
