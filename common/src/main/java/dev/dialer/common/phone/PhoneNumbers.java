package dev.dialer.common.phone;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;

/**
 * Normalises numbers to E.164. The seed API writes international numbers without '+' ({@code 91…}); such digits
 * are read as international first and, failing that, as national numbers of the account's default region.
 */
public final class PhoneNumbers {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();
    private static final String UNKNOWN_REGION = "ZZ";
    private static final String NON_GEOGRAPHIC = "001";

    private PhoneNumbers() {
    }

    /** The outcome: {@code e164} when valid, else {@code error} saying why. */
    public record Result(String e164, String error) {

        public boolean valid() {
            return e164 != null;
        }

        /** E.164 without the '+', the way the seed API writes numbers. */
        public String digits() {
            return e164 == null ? null : e164.substring(1);
        }
    }

    public static Result normalize(String raw, String defaultRegion) {
        if (raw == null || raw.isBlank()) {
            return new Result(null, "is empty");
        }
        String text = raw.strip();
        String digits = digitsOf(text);
        if (digits == null) {
            return new Result(null, "must contain only digits, optionally after '+'");
        }
        if (digits.length() < 6 || digits.length() > 15) {
            return new Result(null, "must have 6 to 15 digits");
        }
        if (text.startsWith("+") || text.startsWith("00")) {
            return international(text.startsWith("00") ? digits.substring(2) : digits);
        }
        Result international = international(digits);
        if (international.valid()) {
            return international;
        }
        Result national = parse(digits, defaultRegion);
        return national.valid() ? national : international;
    }

    /**
     * The digits of {@code text}, or {@code null} unless it is digits and the separators {@code " ()./-"}, optionally
     * after one leading '+'. One pass without regular expressions: bulk sends read every recipient through here.
     */
    private static String digitsOf(String text) {
        StringBuilder digits = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= '0' && c <= '9') {
                digits.append(c);
            } else if (!(c == '+' && i == 0) && " ()./-".indexOf(c) < 0) {
                return null;
            }
        }
        return text.equals("+") || text.isEmpty() ? null : digits.toString();
    }

    /** {@code digits} (country code first, no '+') read as an international number. */
    private static Result international(String digits) {
        Result plain = plainInternational(digits);
        return plain != null ? plain : parse("+" + digits, null);
    }

    /**
     * The common case without libphonenumber's parser, whose extension and punctuation handling (regular expressions)
     * cost more than half of a bulk send's recipient parsing: country code (the calling codes are prefix-free, as in
     * its own parser), then the national number as it stands, valid by the same rule as {@code isValidNumber}
     * ({@link NumberValidity}). Returns null (leaving the number to the full parser) for anything where the parser
     * could read it differently: a national number that starts with 0 or with the country's national prefix (which
     * the parser may strip), non-geographic codes, or a number that is not valid as it stands.
     */
    private static Result plainInternational(String digits) {
        for (int length = 1; length <= 3 && length < digits.length(); length++) {
            int countryCode = Integer.parseInt(digits, 0, length, 10);
            String region = UTIL.getRegionCodeForCountryCode(countryCode);
            if (UNKNOWN_REGION.equals(region)) {
                continue;
            }
            String national = digits.substring(length);
            if (NON_GEOGRAPHIC.equals(region) || national.length() > 15 || national.startsWith("0")) {
                return null;
            }
            String nationalPrefix = UTIL.getNddPrefixForRegion(region, true);
            if (nationalPrefix != null && !nationalPrefix.isEmpty() && national.startsWith(nationalPrefix)) {
                return null;
            }
            Boolean valid = NumberValidity.validForSingleRegion(countryCode, national);
            if (valid == null) {
                valid = UTIL.isValidNumber(new PhoneNumber().setCountryCode(countryCode)
                        .setNationalNumber(Long.parseLong(national)));
            }
            return valid ? new Result("+" + digits, null) : null;
        }
        return null;
    }

    private static Result parse(String text, String region) {
        try {
            PhoneNumber number = UTIL.parse(text, region);
            if (!UTIL.isValidNumber(number)) {
                return new Result(null, "is not a valid number for its country code +" + number.getCountryCode());
            }
            return new Result(UTIL.format(number, PhoneNumberUtil.PhoneNumberFormat.E164), null);
        } catch (NumberParseException e) {
            return new Result(null, "cannot be parsed: " + e.getMessage());
        }
    }
}
