package dev.dialer.common.phone;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link PhoneNumbers#normalize} reads plain digits without libphonenumber's parser where it can; it must answer
 * exactly what the parser-only reading answers, number for number, valid or not, error text included. The parser-only
 * reading is the rule: with '+' or 00, international; else, when the digits start with 0 (the national prefix),
 * {@code parse(digits, region)}; else that national reading and {@code parse("+" + digits)}: the one of them that is
 * valid, both when they are the same number, refused as ambiguous when they are two, and the national reading's
 * error when neither is valid.
 */
class PhoneNumbersParserAgreementTest {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();
    private static final List<String> REGIONS = List.of("IN", "US", "DE", "GB", "IT");

    /** Written without '+' and valid in India as national numbers; read as international, valid elsewhere too. */
    private static final List<String> INDIAN_AND_FOREIGN = List.of("6598765432", "6621234567", "6421234567",
            "8221234567", "9512345678");

    @Test
    void agreesWithTheParserOnEveryRegionsExampleNumbersAndTheirNeighbours() {
        List<String> inputs = exampleInputs();
        assertThat(inputs).hasSizeGreaterThan(2_000);

        for (String input : inputs) {
            for (String region : REGIONS) {
                assertThat(PhoneNumbers.normalize(input, region))
                        .as("%s in %s", input, region)
                        .isEqualTo(parserOnly(input, region));
            }
        }
    }

    @Test
    void agreesWithTheParserInEveryRegionOnItsOwnNumbersWrittenNationallyOrWithItsCountryCodeAndOnRandomDigits() {
        Random random = new Random(20261130);
        int compared = 0;
        int valid = 0;
        int withoutParser = 0;
        for (String region : UTIL.getSupportedRegions()) {
            List<String> inputs = new ArrayList<>();
            String countryCode = Integer.toString(UTIL.getCountryCodeForRegion(region));
            for (PhoneNumberUtil.PhoneNumberType type : PhoneNumberUtil.PhoneNumberType.values()) {
                PhoneNumber example = UTIL.getExampleNumberForType(region, type);
                if (example == null) {
                    continue;
                }
                String national = UTIL.getNationalSignificantNumber(example);
                addNeighbours(inputs, national);
                addNeighbours(inputs, countryCode + national);
                addNeighbours(inputs, "0" + national);
                inputs.add(UTIL.format(example, PhoneNumberUtil.PhoneNumberFormat.NATIONAL));
                inputs.add("+" + countryCode + national);
            }
            for (int n = 0; n < 30; n++) {
                int length = 6 + random.nextInt(10);
                StringBuilder digits = new StringBuilder().append(n % 3 == 0 ? 0 : 1 + random.nextInt(9));
                while (digits.length() < length) {
                    digits.append(random.nextInt(10));
                }
                inputs.add(digits.toString());
                inputs.add(countryCode + digits.substring(Math.min(countryCode.length(), digits.length() - 6)));
            }
            inputs.addAll(INDIAN_AND_FOREIGN);
            for (String input : inputs) {
                PhoneNumbers.Result expected = parserOnly(input, region);
                assertThat(PhoneNumbers.normalize(input, region)).as("%s in %s", input, region).isEqualTo(expected);
                PhoneNumbers.Result fast = PhoneNumbers.nationalWithoutParser(digitsOnly(input), region);
                if (fast != null && !input.startsWith("+") && !input.startsWith("00")) {
                    assertThat(fast).as("%s in %s without the parser", input, region)
                            .isEqualTo(parse(digitsOnly(input), region));
                    withoutParser++;
                }
                compared++;
                valid += expected.valid() ? 1 : 0;
            }
        }
        // Both answers and the reading without the parser were exercised in number.
        assertThat(compared).isGreaterThan(30_000);
        assertThat(valid).isGreaterThan(10_000);
        assertThat(withoutParser).isGreaterThan(10_000);
    }

    /**
     * The rule stated without the reference's steps: an answer is a valid number written in E.164; digits without '+'
     * or 00 that the default region reads as a valid number are that number, unless they are also another valid
     * number read as international, when they are refused naming both; digits that start with 0 are read in the
     * region only.
     */
    @Test
    void answersOnlyValidE164AndNeverChoosesBetweenTwoValidReadings() {
        List<String> inputs = exampleInputs();
        int ambiguous = 0;
        for (String input : inputs) {
            for (String region : REGIONS) {
                PhoneNumbers.Result result = PhoneNumbers.normalize(input, region);
                if (result.valid()) {
                    assertThat(result.e164()).as("%s in %s", input, region).matches("\\+[1-9][0-9]{5,}");
                    assertThat(parse(result.e164(), null)).as("%s in %s", input, region).isEqualTo(result);
                }
                int length = digitsOnly(input).length();
                if (input.startsWith("+") || input.startsWith("00") || length < 6 || length > 15) {
                    continue;
                }
                PhoneNumbers.Result national = parse(digitsOnly(input), region);
                if (national.valid() && national.e164().length() > 16) {
                    // Not dialable nationally: read as international, as any number that is not a national one.
                    PhoneNumbers.Result international = parse("+" + digitsOnly(input), null);
                    if (international.valid()) {
                        assertThat(result).as("%s in %s: over 15 digits", input, region).isEqualTo(international);
                    } else {
                        assertThat(result.valid()).as("%s in %s: over 15 digits", input, region).isFalse();
                    }
                } else if (input.startsWith("0")) {
                    assertThat(result).as("%s in %s", input, region).isEqualTo(national);
                } else if (national.valid()) {
                    PhoneNumbers.Result international = parse("+" + digitsOnly(input), null);
                    if (international.valid() && !international.equals(national)) {
                        assertThat(result.valid()).as("%s in %s: two numbers", input, region).isFalse();
                        assertThat(result.error()).as("%s in %s", input, region).startsWith("is ambiguous: ")
                                .contains(national.e164() + " (" + region + ") or " + international.e164());
                        ambiguous++;
                    } else {
                        assertThat(result).as("%s in %s", input, region).isEqualTo(national);
                    }
                }
            }
        }
        assertThat(ambiguous).as("digits read as two numbers").isGreaterThan(20);
    }

    private static List<String> exampleInputs() {
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
        // National prefixes and leading zeros written after the country code, and the send API document's numbers.
        inputs.addAll(List.of("4402079460958", "+44 020 7946 0958", "78001234567", "+7 8 800 123 45 67",
                "390612345678", "+39 06 1234 5678", "0044 20 7946 0958", "14155552671", "11234567890",
                "918068281234", "919876543210", "9876543210", "+91 98765 43210", "2250712345678",
                "+225 07 12 34 56 78", "5491123456789", "+54 9 11 2345-6789", "861012345678"));
        // Valid national numbers in one region that read as international are valid in another; a national prefix.
        for (String digits : INDIAN_AND_FOREIGN) {
            inputs.addAll(List.of(digits, "0" + digits, "+" + digits, "00" + digits, "91" + digits, "+0" + digits,
                    "000" + digits));
        }
        inputs.addAll(List.of("09876543210", "0919876543210", "4930123456", "04930123456", "030123456",
                "02079460958", "442079460958", "4155552671", "04155552671", "0612345678"));
        return inputs;
    }

    /** The number as given, with '+', with 00, one digit changed, one digit more and one fewer. */
    private static void addVariants(List<String> inputs, String digits) {
        inputs.add(digits);
        inputs.add("+" + digits);
        inputs.add("00" + digits);
        addNeighbours(inputs, digits);
    }

    /** One digit changed, one digit more and one fewer. */
    private static void addNeighbours(List<String> inputs, String digits) {
        char last = digits.charAt(digits.length() - 1);
        inputs.add(digits);
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
        // The 00 international prefix is not one of the number's digits.
        String significant = text.startsWith("00") ? digits.substring(2) : digits.toString();
        if (significant.length() < 6 || significant.length() > 15) {
            return new PhoneNumbers.Result(null, "must have 6 to 15 digits");
        }
        if (text.startsWith("+") || text.startsWith("00")) {
            return parse("+" + significant, null);
        }
        PhoneNumbers.Result national = parse(digits.toString(), defaultRegion);
        if (national.valid() && national.e164().length() > 16) {
            // E.164 has at most 15 digits; the parser checks the national part alone.
            national = new PhoneNumbers.Result(null,
                    "must have at most 15 digits with its country code (" + national.e164() + ")");
        }
        if (digits.charAt(0) == '0') {
            return national;
        }
        PhoneNumbers.Result international = parse("+" + digits, null);
        if (national.valid() && international.valid() && !national.equals(international)) {
            return new PhoneNumbers.Result(null, "is ambiguous: " + national.e164() + " (" + defaultRegion + ") or "
                    + international.e164() + "; write it with + and its country code");
        }
        return national.valid() ? national : international.valid() ? international : national;
    }

    private static String digitsOnly(String text) {
        return text.replaceAll("[^0-9]", "");
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
