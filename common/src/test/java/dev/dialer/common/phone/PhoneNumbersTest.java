package dev.dialer.common.phone;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PhoneNumbersTest {

    @Test
    void readsCountryCodeDigitsWithoutPlusAsInternational() {
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
        // 00 is not counted among a number's at most 15 digits: a 14-digit number written with it is read as with '+'.
        assertThat(PhoneNumbers.normalize("0062812345678901", "IN"))
                .isEqualTo(PhoneNumbers.normalize("+62812345678901", "IN"));
        assertThat(PhoneNumbers.normalize("0062812345678901", "IN").e164()).isEqualTo("+62812345678901");
    }

    @Test
    void refusesANationalNumberThatItsCountryCodeMakesLongerThanE164Allows() {
        // Valid to the parser, which checks the national part alone: 16 and 17 digits with Germany's 49.
        assertThat(PhoneNumbers.normalize("030123456789012", "DE").error()).contains("at most 15 digits");
        assertThat(PhoneNumbers.normalize("301234567890123", "DE").valid()).isFalse();
        assertThat(PhoneNumbers.normalize("+49301234567890123", "DE").valid()).isFalse();
        assertThat(PhoneNumbers.normalize("0301234567890", "DE").e164()).isEqualTo("+49301234567890");
    }

    @Test
    void refusesAPlusAnywhereButFirstAndALonePlus() {
        assertThat(PhoneNumbers.normalize("44+2079460958", "IN").error()).contains("digits");
        assertThat(PhoneNumbers.normalize("++442079460958", "IN").error()).contains("digits");
        assertThat(PhoneNumbers.normalize("+", "IN").error()).contains("digits");
    }

    @Test
    void aLeadingZeroIsTheNationalTrunkPrefixNeverTheStartOfACountryCode() {
        // "065…" once became "+06598765432": 0, then 65 (Singapore), then "+" before all the digits.
        assertThat(PhoneNumbers.normalize("06598765432", "IN").e164()).isEqualTo("+916598765432");
        assertThat(PhoneNumbers.normalize("09512345678", "IN").e164()).isEqualTo("+919512345678");
        assertThat(PhoneNumbers.normalize("06621234567", "IN").e164()).isEqualTo("+916621234567");
        assertThat(PhoneNumbers.normalize("08221234567", "IN").e164()).isEqualTo("+918221234567");
        assertThat(PhoneNumbers.normalize("09876543210", "IN").e164()).isEqualTo("+919876543210");
        assertThat(PhoneNumbers.normalize("0 98765 43210", "IN").e164()).isEqualTo("+919876543210");
        assertThat(PhoneNumbers.normalize("06598765432", "DE").e164()).isEqualTo("+496598765432");
        assertThat(PhoneNumbers.normalize("020 7946 0958", "GB").e164()).isEqualTo("+442079460958");
        // Not valid in the region: refused in the region's terms, never tried as an international number.
        for (String digits : new String[] {"06598765432", "09512345678", "06621234567", "08221234567"}) {
            PhoneNumbers.Result us = PhoneNumbers.normalize(digits, "US");
            assertThat(us.valid()).as(digits).isFalse();
            assertThat(us.error()).as(digits).isEqualTo("is not a valid number for its country code +1");
            assertThat(PhoneNumbers.normalize(digits, "GB").valid()).as(digits).isFalse();
        }
        // After '+' or 00 a 0 cannot start a country code either.
        assertThat(PhoneNumbers.normalize("+06598765432", "IN").valid()).isFalse();
        assertThat(PhoneNumbers.normalize("+0 6598765432", "US").valid()).isFalse();
        assertThat(PhoneNumbers.normalize("0006598765432", "IN").valid()).isFalse();
        assertThat(PhoneNumbers.normalize("006598765432", "IN").e164()).isEqualTo("+6598765432");
    }

    @Test
    void digitsThatAreANumberOfTheRegionAndAnotherCountrysAreRefusedNamingBoth() {
        // Each is a valid Indian mobile number and, read as international, a valid foreign one: which one the client
        // meant, nothing says, and the wrong one is another person.
        assertThat(PhoneNumbers.normalize("6598765432", "IN").error()).isEqualTo(
                "is ambiguous: +916598765432 (IN) or +6598765432; write it with + and its country code");
        assertThat(PhoneNumbers.normalize("6621234567", "IN").error()).contains("+916621234567 (IN) or +6621234567");
        assertThat(PhoneNumbers.normalize("6421234567", "IN").error()).contains("+916421234567 (IN) or +6421234567");
        assertThat(PhoneNumbers.normalize("8221234567", "IN").error()).contains("+918221234567 (IN) or +8221234567");
        assertThat(PhoneNumbers.normalize("9512345678", "IN").error()).contains("+919512345678 (IN) or +9512345678");
        assertThat(PhoneNumbers.normalize("6598765432", "US").error()).contains("+16598765432 (US) or +6598765432");
        assertThat(PhoneNumbers.normalize("6598765432", "DE").error()).contains("+496598765432 (DE) or +6598765432");
        // With '+' (or 00) they are what they say, and with the trunk 0 the region's.
        assertThat(PhoneNumbers.normalize("+6598765432", "IN").e164()).isEqualTo("+6598765432");
        assertThat(PhoneNumbers.normalize("+82 2 1234 567", "IN").e164()).isEqualTo("+8221234567");
        assertThat(PhoneNumbers.normalize("0095 1 234 5678", "IN").e164()).isEqualTo("+9512345678");
        assertThat(PhoneNumbers.normalize("06598765432", "IN").e164()).isEqualTo("+916598765432");
        // In a region where they are not valid national numbers, the international reading is the only one.
        assertThat(PhoneNumbers.normalize("6621234567", "US").e164()).isEqualTo("+6621234567");
        assertThat(PhoneNumbers.normalize("6421234567", "GB").e164()).isEqualTo("+6421234567");
        assertThat(PhoneNumbers.normalize("8221234567", "GB").e164()).isEqualTo("+8221234567");
        // And where the international reading is no valid number, the region's is the only one.
        assertThat(PhoneNumbers.normalize("9876543210", "IN").e164()).isEqualTo("+919876543210");
    }

    @Test
    void theRegionsOwnCountryCodeWithoutPlusIsReadAsSuch() {
        assertThat(PhoneNumbers.normalize("919876543210", "IN").e164()).isEqualTo("+919876543210");
        assertThat(PhoneNumbers.normalize("91 98765 43210", "IN").e164()).isEqualTo("+919876543210");
        assertThat(PhoneNumbers.normalize("918068281234", "IN").e164()).isEqualTo("+918068281234");
        assertThat(PhoneNumbers.normalize("442079460958", "GB").e164()).isEqualTo("+442079460958");
        assertThat(PhoneNumbers.normalize("4930123456", "DE").e164()).isEqualTo("+4930123456");
        assertThat(PhoneNumbers.normalize("14155552671", "US").e164()).isEqualTo("+14155552671");
    }

    @Test
    void anotherCountrysNumberWithoutPlusIsReadAsInternationalWhenItIsNoNationalNumber() {
        assertThat(PhoneNumbers.normalize("4930123456", "IN").e164()).isEqualTo("+4930123456");
        assertThat(PhoneNumbers.normalize("442079460958", "IN").e164()).isEqualTo("+442079460958");
        assertThat(PhoneNumbers.normalize("14155552671", "IN").e164()).isEqualTo("+14155552671");
        assertThat(PhoneNumbers.normalize("919876543210", "GB").e164()).isEqualTo("+919876543210");
        // A number of neither reading is refused in the region's terms.
        assertThat(PhoneNumbers.normalize("12345678", "IN").error())
                .isEqualTo("is not a valid number for its country code +91");
    }

    @Test
    void theDocumentedDigitsThatAreAlsoANationalNumberOfTheRegionAreRefusedNamingBoth() {
        // "919876543210" is also a valid German number (German numbers have no fixed length): the `outgoing/send`
        // API document writes numbers with their country code and no '+', an account in DE may write them
        // nationally; either reading could be meant, and each is someone.
        assertThat(PhoneNumbers.normalize("919876543210", "DE").error()).isEqualTo(
                "is ambiguous: +49919876543210 (DE) or +919876543210; write it with + and its country code");
        assertThat(PhoneNumbers.normalize("+919876543210", "DE").e164()).isEqualTo("+919876543210");
        assertThat(PhoneNumbers.normalize("0919876543210", "DE").e164()).isEqualTo("+49919876543210");
    }

    @Test
    void readsTheAccountsOwnCountryCodeWithoutTheFullParser() {
        assertThat(PhoneNumbers.nationalWithoutParser("919876543210", "IN"))
                .isEqualTo(new PhoneNumbers.Result("+919876543210", null));
        assertThat(PhoneNumbers.nationalWithoutParser("9876543210", "IN"))
                .isEqualTo(new PhoneNumbers.Result("+919876543210", null));
        assertThat(PhoneNumbers.nationalWithoutParser("918068281234", "IN"))
                .isEqualTo(new PhoneNumbers.Result("+918068281234", null));
        // A national prefix is left to the parser.
        assertThat(PhoneNumbers.nationalWithoutParser("09876543210", "IN")).isNull();
    }
}
