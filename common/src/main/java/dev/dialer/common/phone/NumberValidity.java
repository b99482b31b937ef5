package dev.dialer.common.phone;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonemetadata.PhoneMetadata;
import com.google.i18n.phonenumbers.Phonemetadata.PhoneNumberDesc;
import com.google.i18n.phonenumbers.metadata.DefaultMetadataDependenciesProvider;
import com.google.i18n.phonenumbers.metadata.source.RegionMetadataSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * libphonenumber's {@code isValidNumber}, answered with fewer regular expressions for a country calling code that
 * belongs to one region, each whole-number pattern run as a deterministic automaton ({@link NumberPatterns}). Valid
 * means what it means there: the national number matches the region's general pattern and the pattern of at least
 * one number type. libphonenumber looks for the type (premium rate, toll free, shared
 * cost, VoIP, personal, pager, UAN, voicemail, then fixed line and mobile), matching each pattern twice
 * ({@code lookingAt}, then {@code matches}); validity needs only whether one matches, so the types most numbers are
 * (mobile, fixed line) are tried first, each once. Bulk sends validate every recipient through here. Also the few
 * look-ups into the same metadata that {@link PhoneNumbers} needs to read digits the way the parser reads them.
 */
final class NumberValidity {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();
    private static final RegionMetadataSource METADATA =
            DefaultMetadataDependenciesProvider.getInstance().getPhoneNumberMetadataSource();
    private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();

    private NumberValidity() {
    }

    /**
     * Whether {@code national} (no leading zero, no national prefix) is valid after {@code countryCode}; null when
     * the code is shared by several regions (+1, +7, +44, …), where libphonenumber first works out the region.
     */
    static Boolean validForSingleRegion(int countryCode, String national) {
        List<String> regions = UTIL.getRegionCodesForCountryCode(countryCode);
        if (regions.size() != 1) {
            return null;
        }
        PhoneMetadata metadata = METADATA.getMetadataForRegion(regions.get(0));
        if (metadata == null) {
            return null;
        }
        if (!matches(national, metadata.getGeneralDesc())) {
            return false;
        }
        return (!metadata.getSameMobileAndFixedLinePattern() && matches(national, metadata.getMobile()))
                || matches(national, metadata.getFixedLine())
                || matches(national, metadata.getTollFree())
                || matches(national, metadata.getPremiumRate())
                || matches(national, metadata.getSharedCost())
                || matches(national, metadata.getVoip())
                || matches(national, metadata.getPersonalNumber())
                || matches(national, metadata.getPager())
                || matches(national, metadata.getUan())
                || matches(national, metadata.getVoicemail());
    }

    /** The metadata of a supported region (not "001", "ZZ" or null), else null. */
    static PhoneMetadata metadata(String region) {
        return region != null && UTIL.getSupportedRegions().contains(region)
                ? METADATA.getMetadataForRegion(region) : null;
    }

    /** Whether {@code digits} as a whole match the region's general national number pattern (lengths not checked). */
    static boolean matchesGeneralPattern(PhoneMetadata metadata, String digits) {
        String pattern = metadata.getGeneralDesc().getNationalNumberPattern();
        return !pattern.isEmpty() && NumberPatterns.matchesWhole(pattern, digits);
    }

    /** Whether {@code regex} matches at the start of {@code digits}, possibly matching nothing. */
    static boolean lookingAt(String regex, String digits) {
        return pattern(regex).matcher(digits).lookingAt();
    }

    /**
     * Whether libphonenumber's parser could strip a national prefix (or carrier code) from {@code national}: its
     * national prefix rule matches at the start (even matching nothing, which a transform rule may act on), or it
     * starts with the national prefix. When false, the parser leaves {@code national} as it stands.
     */
    static boolean mayStripNationalPrefix(PhoneMetadata metadata, String national) {
        String forParsing = metadata.getNationalPrefixForParsing();
        String prefix = metadata.getNationalPrefix().replace("~", "");
        return (!forParsing.isEmpty() && lookingAt(forParsing, national))
                || (!prefix.isEmpty() && national.startsWith(prefix));
    }

    private static Pattern pattern(String regex) {
        return PATTERNS.computeIfAbsent(regex, Pattern::compile);
    }

    /** libphonenumber's {@code isNumberMatchingDesc}: a possible length, then the whole pattern. */
    private static boolean matches(String national, PhoneNumberDesc desc) {
        if (desc.getPossibleLengthCount() > 0 && !desc.getPossibleLengthList().contains(national.length())) {
            return false;
        }
        String pattern = desc.getNationalNumberPattern();
        return !pattern.isEmpty() && NumberPatterns.matchesWhole(pattern, national);
    }
}
