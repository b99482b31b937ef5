package dev.dialer.api.send;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.phone.PhoneNumbers;
import org.junit.jupiter.api.Test;

class CallerIdCacheTest {

    @Test
    void answersWhatTheNormaliserAnswersForValidAndInvalidNumbersAndPerRegion() {
        for (String raw : new String[] {"918068281234", "08068281234", "12", "+4930555000", "abc"}) {
            for (String region : new String[] {"IN", "DE"}) {
                assertThat(CallerIdCache.normalize(raw, region)).isEqualTo(PhoneNumbers.normalize(raw, region));
                assertThat(CallerIdCache.normalize(raw, region)).isEqualTo(PhoneNumbers.normalize(raw, region));
            }
        }
    }

    @Test
    void staysBounded() {
        for (int i = 0; i < CallerIdCache.MAX_ENTRIES + 10; i++) {
            CallerIdCache.normalize("9180682" + String.format("%05d", i), "IN");
        }

        assertThat(CallerIdCache.size()).isLessThanOrEqualTo(CallerIdCache.MAX_ENTRIES);
    }

    @Test
    void keepsNeitherInvalidNorOverLongTextsButStillAnswersForThem() {
        String overLong = "+91" + " ".repeat(CallerIdCache.MAX_KEY_CHARS) + "8068281234";
        int before = CallerIdCache.size();

        assertThat(CallerIdCache.normalize(overLong, "IN").e164()).isEqualTo("+918068281234");
        assertThat(CallerIdCache.normalize("x".repeat(100_000), "IN").valid()).isFalse();
        assertThat(CallerIdCache.normalize("abc", "IN").valid()).isFalse();

        assertThat(CallerIdCache.size()).isEqualTo(before);
    }
}
