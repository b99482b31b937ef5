package dev.dialer.common.phone;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonemetadata.PhoneMetadata;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;

/**
 * Normalises numbers to E.164, reading a number the way libphonenumber's {@code parse(number, region)} reads it, in
 * the account's default region:
 * <ul>
 *   <li>a number written with '+' or the international prefix 00 is read as international, whatever the region;</li>
 *   <li>a number that starts with 0 is read as a number of the region: the 0 is the region's national (trunk)
 *       prefix, never the start of a country code ({@code 09876543210} is {@code +919876543210} with region IN);</li>
 *   <li>any other digits are read both ways: as a number of the region (the parser takes the region's own country
 *       code off digits that start with it where they are a number of the region only without it) and as
 *       international, country code first. The reading that is a valid number is the number; when both are and
 *       they are the same number, that is it (with region IN, {@code 919876543210}, the send API's way of writing
 *       numbers, and {@code 9876543210} are both {@code +919876543210}; {@code 919876543210} is
 *       {@code +919876543210} with region US too). When both are valid and are two numbers, the digits are refused
 *       as ambiguous, naming both: either could be meant, and the other one is someone else (with region DE,
 *       {@code 919876543210} is {@code +49919876543210} or India's {@code +919876543210}; with region IN,
 *       {@code 6598765432} is {@code +916598765432} or Singapore's {@code +6598765432}). When neither is valid, the
 *       error is the national reading's (decision 0120).</li>
 *   <li>a national reading longer than E.164's 15 digits with its country code is not valid, whatever the parser
 *       says of its national part ({@code 030123456789012} with region DE).</li>
 * </ul>
 * Valid means libphonenumber's {@code isValidNumber}.
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

        /** E.164 without the '+', the way the send API writes numbers. */
        public String digits() {
            return e164 == null ? null : e164.substring(1);
        }
    }

    /**
     * {@code e164} in canonical E.164, as api-service writes numbers: {@code +4402071234567} (a national trunk 0 kept
     * after the country code) is {@code +442071234567}. A number libphonenumber cannot read as a valid one is returned
     * as written.
     */
    public static String canonical(String e164) {
        Result canonical = normalize(e164, null);
        return canonical.valid() ? canonical.e164() : e164;
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
        // 00 is the international prefix, not part of the number: counted without it.
        boolean internationalPrefix = text.startsWith("00");
        String significant = internationalPrefix ? digits.substring(2) : digits;
        if (significant.length() < 6 || significant.length() > 15) {
            return new Result(null, "must have 6 to 15 digits");
        }
        if (text.startsWith("+") || internationalPrefix) {
            return international(significant);
        }
        Result national = nationalWithoutParser(digits, defaultRegion);
        if (national == null) {
            national = parse(digits, defaultRegion);
        }
        national = withinE164(national);
        if (digits.charAt(0) == '0') {
            return national;
        }
        Result international = international(digits);
        if (!international.valid()) {
            return national;
        }
        if (national.valid() && !national.e164().equals(international.e164())) {
            return new Result(null, "is ambiguous: " + national.e164() + " (" + defaultRegion + ") or "
                    + international.e164() + "; write it with + and its country code");
        }
        return international;
    }

    /**
     * A national reading that the region's country code makes longer than E.164's 15 digits is no number anyone can
     * dial (the parser's {@code isValidNumber} checks the national part alone): {@code 030123456789012} with region
     * DE would be {@code +4930123456789012}.
     */
    private static Result withinE164(Result national) {
        return national.valid() && national.e164().length() - 1 > 15
                ? new Result(null, "must have at most 15 digits with its country code (" + national.e164() + ")")
                : national;
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
     * could read it differently: digits that start with 0 (no country code does), a national number that starts with
     * 0 or with what the country's national prefix rule strips, non-geographic codes, or a number that is not valid
     * as it stands.
     */
    private static Result plainInternational(String digits) {
        if (digits.isEmpty() || digits.charAt(0) == '0') {
            return null;
        }
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
            PhoneMetadata metadata = NumberValidity.metadata(region);
            if (metadata == null || NumberValidity.mayStripNationalPrefix(metadata, national)) {
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

    /**
     * What {@code parse(digits, region)} and {@code isValidNumber} answer, without the parser, for the common cases:
     * the region's own country code followed by a national number (the send API's {@code 91…}), or a national number
     * without national prefix. Mirrors the parser's steps: digits that start with the region's international prefix
     * are international; digits that start with the region's country code lose it when they do not match the
     * region's general pattern as a whole but do without it; a national prefix is stripped. Returns null (leaving
     * the number to the parser) wherever one of those steps could apply in a way not read here: digits that start
     * with 0 or with something the international prefix or the national prefix rule matches, digits that start with
     * the country code but match the general pattern as they stand or do not without it, or a region that shares its
     * country code and is not the code's main region (CA for +1, whose numbers the parser reads with US rules).
     */
    static Result nationalWithoutParser(String digits, String region) {
        if (region == null || digits.isEmpty() || digits.charAt(0) == '0') {
            return null;
        }
        PhoneMetadata metadata = NumberValidity.metadata(region);
        if (metadata == null || NumberValidity.lookingAt(metadata.getInternationalPrefix(), digits)) {
            return null;
        }
        int countryCode = metadata.getCountryCode();
        String countryCodeDigits = Integer.toString(countryCode);
        String national = digits;
        if (digits.startsWith(countryCodeDigits)) {
            String rest = digits.substring(countryCodeDigits.length());
            if (NumberValidity.matchesGeneralPattern(metadata, digits)
                    || !NumberValidity.matchesGeneralPattern(metadata, rest)) {
                return null;
            }
            national = rest;
        }
        if (national.isEmpty() || national.charAt(0) == '0'
                || NumberValidity.mayStripNationalPrefix(metadata, national)) {
            return null;
        }
        Boolean valid = NumberValidity.validForSingleRegion(countryCode, national);
        if (valid == null) {
            if (!region.equals(UTIL.getRegionCodeForCountryCode(countryCode))) {
                return null;
            }
            valid = UTIL.isValidNumber(new PhoneNumber().setCountryCode(countryCode)
                    .setNationalNumber(Long.parseLong(national)));
        }
        return valid
                ? new Result("+" + countryCodeDigits + national, null)
                : new Result(null, "is not a valid number for its country code +" + countryCode);
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
