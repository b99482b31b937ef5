package dev.dialer.common.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AccountSettings.CallingWindow;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;

class CallingWindowsTest {

    /** A US number of a region libphonenumber maps to several zones. */
    private static final String US_TOLL_FREE = "+18005550199";
    private static final String NEW_YORK = "+12125550123";

    @Test
    void aNumberHasTheZonesOfItsRegion() {
        assertThat(CallingWindows.zonesOf("+919876543215")).containsExactly(ZoneId.of("Asia/Calcutta"));
        assertThat(CallingWindows.zonesOf(NEW_YORK)).containsExactly(ZoneId.of("America/New_York"));
    }

    @Test
    void aNumberSpanningSeveralZonesWaitsUntilTheWindowIsOpenInAll() {
        assertThat(CallingWindows.zonesOf(US_TOLL_FREE)).hasSizeGreaterThan(1);
        // 09:30 in New York is 03:30 in Honolulu: open in the east only.
        Instant eastMorning = ZonedDateTime.of(2026, 3, 2, 9, 30, 0, 0, ZoneId.of("America/New_York")).toInstant();

        Instant opening = CallingWindows.nextOpening(US_TOLL_FREE, CallingWindow.DEFAULT, eastMorning);

        assertThat(opening).isAfter(eastMorning);
        for (ZoneId zone : CallingWindows.zonesOf(US_TOLL_FREE)) {
            assertThat(CallingWindow.DEFAULT.contains(opening.atZone(zone).toLocalTime())).as(zone.getId()).isTrue();
        }
        assertThat(CallingWindows.isOpen(NEW_YORK, CallingWindow.DEFAULT, eastMorning)).isTrue();
    }

    @Test
    void anOpenWindowOpensNow() {
        Instant noon = ZonedDateTime.of(2026, 3, 2, 12, 0, 0, 0, ZoneId.of("America/New_York")).toInstant();

        assertThat(CallingWindows.nextOpening(NEW_YORK, CallingWindow.DEFAULT, noon)).isEqualTo(noon);
    }

    @Test
    void theOpeningFollowsDaylightSavingTime() {
        // The night before the US switches to summer time (2026-03-08).
        Instant night = ZonedDateTime.of(2026, 3, 7, 23, 0, 0, 0, ZoneId.of("America/New_York")).toInstant();

        Instant opening = CallingWindows.nextOpening(NEW_YORK, CallingWindow.DEFAULT, night);

        assertThat(opening.atZone(ZoneId.of("America/New_York")).toLocalTime()).isEqualTo(LocalTime.of(9, 0));
        assertThat(opening).isEqualTo(Instant.parse("2026-03-08T13:00:00Z"));
    }

    @Test
    void windowsThatNeverOverlapAcrossTheZonesOpenWhereverTheyAreOpenAndTheOpeningHolds() {
        // One hour a day cannot be open from New York to Honolulu at once: the strict rule cannot be met.
        CallingWindow oneHour = new CallingWindow(LocalTime.of(9, 0), LocalTime.of(10, 0));
        Instant night = ZonedDateTime.of(2026, 3, 2, 2, 0, 0, 0, ZoneId.of("America/New_York")).toInstant();

        Instant opening = CallingWindows.nextOpening(US_TOLL_FREE, oneHour, night);

        assertThat(opening).isAfter(night);
        assertThat(CallingWindows.zonesOf(US_TOLL_FREE))
                .anySatisfy(zone -> assertThat(oneHour.contains(opening.atZone(zone).toLocalTime())).isTrue());
        // Asked again at the opening (a deferred call coming back), the answer is that opening: it is dialled, not
        // deferred to the next zone's opening again and again.
        assertThat(CallingWindows.nextOpening(US_TOLL_FREE, oneHour, opening)).isEqualTo(opening);
        assertThat(CallingWindows.nextOpening(US_TOLL_FREE, oneHour, opening.plusSeconds(1800)))
                .isEqualTo(opening.plusSeconds(1800));
    }
}
