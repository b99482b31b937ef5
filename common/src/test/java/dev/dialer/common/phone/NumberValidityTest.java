package dev.dialer.common.phone;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link NumberValidity} must answer exactly what libphonenumber's {@code isValidNumber} answers. */
class NumberValidityTest {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();

    @Test
    void agreesWithIsValidNumberOnExampleNumbersAndRandomNumbersOfEveryRegion() {
        Random random = new Random(20261129);
        int compared = 0;
        int valid = 0;
        for (String region : UTIL.getSupportedRegions()) {
            int countryCode = UTIL.getCountryCodeForRegion(region);
            List<String> nationals = new ArrayList<>();
            for (PhoneNumberUtil.PhoneNumberType type : PhoneNumberUtil.PhoneNumberType.values()) {
                PhoneNumber example = UTIL.getExampleNumberForType(region, type);
                if (example != null && !example.hasItalianLeadingZero()) {
                    String national = Long.toString(example.getNationalNumber());
                    nationals.add(national);
                    nationals.add(national.substring(0, national.length() - 1));
                    nationals.add(national + "7");
                    for (int digit = 0; digit < 10; digit++) {
                        nationals.add(national.substring(0, national.length() - 1) + digit);
                    }
                }
            }
            for (int length = 4; length <= 14; length++) {
                for (int n = 0; n < 40; n++) {
                    StringBuilder digits = new StringBuilder().append(1 + random.nextInt(9));
                    while (digits.length() < length) {
                        digits.append(random.nextInt(10));
                    }
                    nationals.add(digits.toString());
                }
            }
            for (String national : nationals) {
                Boolean fast = NumberValidity.validForSingleRegion(countryCode, national);
                boolean reference = UTIL.isValidNumber(new PhoneNumber().setCountryCode(countryCode)
                        .setNationalNumber(Long.parseLong(national)));
                if (UTIL.getRegionCodesForCountryCode(countryCode).size() > 1) {
                    assertThat(fast).as("+%d is shared by several regions", countryCode).isNull();
                    continue;
                }
                assertThat(fast).as("+%d %s (%s)", countryCode, national, region).isEqualTo(reference);
                compared++;
                valid += reference ? 1 : 0;
            }
        }
        // Both answers were exercised in number: this is a comparison, not a run over invalid input only.
        assertThat(compared).isGreaterThan(50_000);
        assertThat(valid).isGreaterThan(5_000);
    }
}
