package dev.dialer.common.phone;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link PhoneNumbers#normalize} reads plain international digits without libphonenumber's parser; it must answer
 * exactly what the parser-only reading answers, number for number, valid or not, error text included.
 */
class PhoneNumbersParserAgreementTest {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();

    @Test
    void agreesWithTheParserOnEveryRegionsExampleNumbersAndTheirNeighbours() {
        List<String> inputs = new ArrayList<>();
        for (String region : UTIL.getSupportedRegions()) {
            for (PhoneNumberUtil.PhoneNumberType type : PhoneNumberUtil.PhoneNumberType.values()) {
                PhoneNumber example = UTIL.getExampleNumberForType(region, type);
                if (example != null) {
                    addVariants(inputs, UTIL.format(example, PhoneNumberUtil.PhoneNumberFormat.E164).substring(1));
                }
            }
        }
        for (int code : UTIL.getSupportedGlobalNetworkCallingCodes()) {
            PhoneNumber example = UTIL.getExampleNumberForNonGeoEntity(code);
            if (example != null) {
                addVariants(inputs, UTIL.format(example, PhoneNumberUtil.PhoneNumberFormat.E164).substring(1));
            }
        }
        // National prefixes and leading zeros written after the country code, and the seeds' numbers.
        inputs.addAll(List.of("4402079460958", "+44 020 7946 0958", "78001234567", "+7 8 800 123 45 67",
                "390612345678", "+39 06 1234 5678", "0044 20 7946 0958", "14155552671", "11234567890",
                "918068281234", "919876543210", "9876543210", "+91 98765 43210", "2250712345678",
                "+225 07 12 34 56 78", "5491123456789", "+54 9 11 2345-6789", "861012345678"));
        assertThat(inputs).hasSizeGreaterThan(2_000);

        for (String input : inputs) {
            for (String region : List.of("IN", "US", "DE", "IT")) {
                assertThat(PhoneNumbers.normalize(input, region))
                        .as("%s in %s", input, region)
                        .isEqualTo(parserOnly(input, region));
            }
        }
    }

    /** The number as given, with '+', with 00, one digit changed, one digit more and one fewer. */
    private static void addVariants(List<String> inputs, String digits) {
        inputs.add(digits);
        inputs.add("+" + digits);
        inputs.add("00" + digits);
        char last = digits.charAt(digits.length() - 1);
        inputs.add(digits.substring(0, digits.length() - 1) + (last == '9' ? '0' : (char) (last + 1)));
        inputs.add(digits + "5");
        inputs.add(digits.substring(0, digits.length() - 1));
    }

    /** normalize as it reads every number through libphonenumber's parser: the reference. */
    private static PhoneNumbers.Result parserOnly(String raw, String defaultRegion) {
        String text = raw.strip();
        StringBuilder digits = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= '0' && c <= '9') {
                digits.append(c);
            } else if (!(c == '+' && i == 0) && " ()./-".indexOf(c) < 0) {
                return new PhoneNumbers.Result(null, "must contain only digits, optionally after '+'");
            }
        }
        if (digits.length() < 6 || digits.length() > 15) {
            return new PhoneNumbers.Result(null, "must have 6 to 15 digits");
        }
        if (text.startsWith("+") || text.startsWith("00")) {
            return parse("+" + (text.startsWith("00") ? digits.substring(2) : digits), null);
        }
        PhoneNumbers.Result international = parse("+" + digits, null);
        if (international.valid()) {
            return international;
        }
        PhoneNumbers.Result national = parse(digits.toString(), defaultRegion);
        return national.valid() ? national : international;
    }

    private static PhoneNumbers.Result parse(String text, String region) {
        try {
            PhoneNumber number = UTIL.parse(text, region);
            if (!UTIL.isValidNumber(number)) {
                return new PhoneNumbers.Result(null,
                        "is not a valid number for its country code +" + number.getCountryCode());
            }
            return new PhoneNumbers.Result(UTIL.format(number, PhoneNumberUtil.PhoneNumberFormat.E164), null);
        } catch (NumberParseException e) {
            return new PhoneNumbers.Result(null, "cannot be parsed: " + e.getMessage());
        }
    }
}
