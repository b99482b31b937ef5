package dev.dialer.common.phone;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PhoneNumbersTest {

    @Test
    void readsSeedStyleDigitsAsInternational() {
        assertThat(PhoneNumbers.normalize("919876543210", "US").e164()).isEqualTo("+919876543210");
    }

    @Test
    void readsNationalDigitsInTheDefaultRegion() {
        assertThat(PhoneNumbers.normalize("9876543210", "IN").e164()).isEqualTo("+919876543210");
    }

    @Test
    void keepsAnExplicitPlus() {
        assertThat(PhoneNumbers.normalize("+44 20 7946 0958", "IN").e164()).isEqualTo("+442079460958");
    }

    @Test
    void refusesLettersWithAReason() {
        PhoneNumbers.Result result = PhoneNumbers.normalize("91806828XXXX", "IN");
        assertThat(result.valid()).isFalse();
        assertThat(result.error()).contains("digits");
    }

    @Test
    void refusesAnImpossibleNumberWithAReason() {
        PhoneNumbers.Result result = PhoneNumbers.normalize("9112345", "IN");
        assertThat(result.valid()).isFalse();
        assertThat(result.error()).isNotBlank();
    }

    @Test
    void digitsDropThePlus() {
        assertThat(PhoneNumbers.normalize("+919876543210", "IN").digits()).isEqualTo("919876543210");
    }

    @Test
    void readsTheUsualSeparatorsAndAnInternationalZeroZeroPrefix() {
        assertThat(PhoneNumbers.normalize("(+44) 20-7946.0958", "IN").valid()).isFalse();
        assertThat(PhoneNumbers.normalize("+44 (20) 7946-0958", "IN").e164()).isEqualTo("+442079460958");
        assertThat(PhoneNumbers.normalize("0044/20/7946/0958", "IN").e164()).isEqualTo("+442079460958");
    }

    @Test
    void refusesAPlusAnywhereButFirstAndALonePlus() {
        assertThat(PhoneNumbers.normalize("44+2079460958", "IN").error()).contains("digits");
        assertThat(PhoneNumbers.normalize("++442079460958", "IN").error()).contains("digits");
        assertThat(PhoneNumbers.normalize("+", "IN").error()).contains("digits");
    }
}
