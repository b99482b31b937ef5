package dev.dialer.common.phone;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonemetadata.PhoneMetadata;
import com.google.i18n.phonenumbers.Phonemetadata.PhoneNumberDesc;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@link NumberPatterns} must answer what {@link Pattern} answers for every pattern of libphonenumber's metadata. */
class NumberPatternsTest {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();

    @Test
    void agreesWithPatternOnEveryRegionsNumberPatterns() {
        Random random = new Random(20261129);
        int patterns = 0;
        int automata = 0;
        long compared = 0;
        long matched = 0;
        for (String region : UTIL.getSupportedRegions()) {
            PhoneMetadata metadata = NumberValidity.metadata(region);
            for (PhoneNumberDesc desc : descs(metadata)) {
                String regex = desc.getNationalNumberPattern();
                if (regex.isEmpty()) {
                    continue;
                }
                patterns++;
                automata += NumberPatterns.runsAsAutomaton(regex) ? 1 : 0;
                Pattern pattern = Pattern.compile(regex);
                for (String digits : inputs(desc, metadata, random)) {
                    boolean expected = pattern.matcher(digits).matches();
                    assertThat(NumberPatterns.matchesWhole(regex, digits))
                            .as("%s %s against %s", region, digits, regex).isEqualTo(expected);
                    compared++;
                    matched += expected ? 1 : 0;
                }
            }
        }
        // Every pattern of the metadata uses only what both read alike: all of them run as automata.
        assertThat(automata).isEqualTo(patterns);
        assertThat(patterns).isGreaterThan(1_000);
        // The inputs include numbers that match and numbers that do not, in numbers.
        assertThat(matched).isGreaterThan(10_000);
        assertThat(compared - matched).isGreaterThan(100_000);
    }

    @Test
    void refusesWhatItCannotReadAlikeAndStillAnswersThroughPattern() {
        for (String regex : List.of("\\d+$", "(\\d)\\1", "[^0]\\d", "\\d?+5", "9.", "(?=9)\\d{2}", "[\\d&&[^5]]1")) {
            assertThat(NumberPatterns.runsAsAutomaton(regex)).as(regex).isFalse();
        }
        assertThat(NumberPatterns.matchesWhole("(\\d)\\1", "77")).isTrue();
        assertThat(NumberPatterns.matchesWhole("(\\d)\\1", "78")).isFalse();
        assertThat(NumberPatterns.matchesWhole("[^0]\\d", "10")).isTrue();
        assertThat(NumberPatterns.matchesWhole("[^0]\\d", "01")).isFalse();
        assertThat(NumberPatterns.automatonSyntax("(?:6[0-2]|7\\d)\\d{2,3}|8[\\d]?")).isEqualTo("(6[0-2]|7[0-9])[0-9]{2,3}|8[0-9]?");
    }

    private static List<PhoneNumberDesc> descs(PhoneMetadata metadata) {
        return List.of(metadata.getGeneralDesc(), metadata.getFixedLine(), metadata.getMobile(), metadata.getTollFree(),
                metadata.getPremiumRate(), metadata.getSharedCost(), metadata.getVoip(), metadata.getPersonalNumber(),
                metadata.getPager(), metadata.getUan(), metadata.getVoicemail(), metadata.getNoInternationalDialling());
    }

    /** The desc's example, its neighbours (each digit changed, one shorter, one longer), and random digits of every length. */
    private static Set<String> inputs(PhoneNumberDesc desc, PhoneMetadata metadata, Random random) {
        Set<String> inputs = new LinkedHashSet<>();
        List<String> examples = new ArrayList<>();
        if (!desc.getExampleNumber().isEmpty()) {
            examples.add(desc.getExampleNumber());
        }
        for (PhoneNumberDesc other : descs(metadata)) {
            if (!other.getExampleNumber().isEmpty()) {
                examples.add(other.getExampleNumber());
            }
        }
        for (String example : examples) {
            inputs.add(example);
            inputs.add(example.substring(0, example.length() - 1));
            inputs.add(example + "5");
            for (int at = 0; at < example.length(); at++) {
                for (char digit = '0'; digit <= '9'; digit++) {
                    inputs.add(example.substring(0, at) + digit + example.substring(at + 1));
                }
            }
        }
        for (int length = 1; length <= 17; length++) {
            for (int n = 0; n < 20; n++) {
                StringBuilder digits = new StringBuilder();
                for (int i = 0; i < length; i++) {
                    digits.append((char) ('0' + random.nextInt(10)));
                }
                inputs.add(digits.toString());
            }
        }
        return inputs;
    }
}
