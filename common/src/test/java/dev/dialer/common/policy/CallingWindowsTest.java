package dev.dialer.common.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.PhoneNumberUtil.PhoneNumberFormat;
import com.google.i18n.phonenumbers.PhoneNumberUtil.PhoneNumberType;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import dev.dialer.common.contract.AccountSettings.CallingWindow;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
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
    void aNumberOfAnAreaCodeSpanningTwoZonesIsTimedInBothUnlessTheDataNamesItsExchange() {
        // 423 (Tennessee): Central by the area code's own entry, Eastern for the exchanges the data lists; 308 is not
        // listed, 305 is.
        String unlisted = "+14233081234";
        assertThat(CallingWindows.zonesOf(unlisted))
                .contains(ZoneId.of("America/New_York"), ZoneId.of("America/Chicago"));
        // 20:30 in Chicago is 21:30 in New York: shut.
        Instant lateCentral = Instant.parse("2026-01-15T02:30:00Z");
        assertThat(CallingWindows.isOpen(unlisted, CallingWindow.DEFAULT, lateCentral)).isFalse();
        assertThat(CallingWindows.nextOpening(unlisted, CallingWindow.DEFAULT, lateCentral).atZone(
                ZoneId.of("America/New_York")).toLocalTime()).isEqualTo(LocalTime.of(10, 0));
        assertThat(CallingWindows.zonesOf("+14233051234")).containsExactly(ZoneId.of("America/New_York"));
        assertThat(CallingWindows.zonesOf(NEW_YORK)).as("an area code in one zone")
                .containsExactly(ZoneId.of("America/New_York"));
    }

    @Test
    void aSaskatchewanOverlayNumberIsTimedLikeTheAreaItOverlays() {
        String saskatoon = "+14742221234";
        assertThat(CallingWindows.zonesOf(saskatoon)).as("the data's Winnipeg is gone")
                .doesNotContain(ZoneId.of("America/Winnipeg"))
                .isEqualTo(CallingWindows.zonesOf("+13065551234"))
                .contains(ZoneId.of("America/Regina"));
        // 08:30 in Regina in July (no daylight saving time) is 09:30 in Winnipeg: shut.
        Instant summerMorning = ZonedDateTime.of(2026, 7, 15, 8, 30, 0, 0, ZoneId.of("America/Regina")).toInstant();
        assertThat(CallingWindows.isOpen(saskatoon, CallingWindow.DEFAULT, summerMorning)).isFalse();
        assertThat(CallingWindows.isOpen(saskatoon, CallingWindow.DEFAULT, summerMorning.plus(Duration.ofHours(1))))
                .isTrue();
    }

    @Test
    void overlayNumbersOfAreasSpanningTwoZonesAreTimedInBoth() {
        assertThat(CallingWindows.zonesOf("+14482345678")).as("448 over 850")
                .contains(ZoneId.of("America/Chicago"), ZoneId.of("America/New_York"));
        assertThat(CallingWindows.zonesOf("+17782345678")).as("778 over 250").contains(ZoneId.of("America/Edmonton"));
        assertThat(CallingWindows.zonesOf("+14582345678")).as("458 over 541").hasSizeGreaterThan(1);
        // 08:30 CST in January is 09:30 in New York: a Pensacola 448 number is not called yet.
        Instant winterMorning = ZonedDateTime.of(2026, 1, 14, 8, 30, 0, 0, ZoneId.of("America/Chicago")).toInstant();
        assertThat(CallingWindows.isOpen("+14482345678", CallingWindow.DEFAULT, winterMorning)).isFalse();
    }

    @Test
    void aNumberTheDataPlacesInAnotherZoneOfItsCountryIsAlsoTimedByItsOwnClock() {
        assertThat(CallingWindows.zonesOf("+5581987654321")).contains(ZoneId.of("America/Recife"));
        assertThat(CallingWindows.zonesOf("+526141234567")).contains(ZoneId.of("America/Chihuahua"));
        assertThat(CallingWindows.zonesOf("+526561234567")).contains(ZoneId.of("America/Ciudad_Juarez"));
        assertThat(CallingWindows.zonesOf("+528681234567")).contains(ZoneId.of("America/Matamoros"));
        assertThat(CallingWindows.zonesOf("+56612345678")).contains(ZoneId.of("America/Punta_Arenas"));
        assertThat(CallingWindows.zonesOf("+78452123456")).contains(ZoneId.of("Europe/Saratov"));
        // 21:30 in Chihuahua (UTC−6) is 20:30 by the data's Mazatlán: shut.
        assertThat(CallingWindows.isOpen("+526141234567", CallingWindow.DEFAULT,
                Instant.parse("2026-01-14T03:30:00Z"))).isFalse();
        // 08:30 in Recife is 09:30 by the data's Noronha: shut.
        assertThat(CallingWindows.isOpen("+5581987654321", CallingWindow.DEFAULT,
                Instant.parse("2026-01-14T11:30:00Z"))).isFalse();
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
    void aNumberWhoseZoneDataNamesANeighboursClockIsAlsoTimedByItsOwnCountrys() {
        // libphonenumber places Moroccan mobiles in Atlantic/Canary (UTC+0 in winter), Morocco keeps UTC+1: at 20:30Z
        // on 14 January it is 21:30 in Casablanca, past the window, though 20:30 on the Canaries.
        assertThat(CallingWindows.zonesOf("+212650123456")).contains(ZoneId.of("Africa/Casablanca"));
        assertThat(CallingWindows.isOpen("+212650123456", CallingWindow.DEFAULT, Instant.parse("2026-01-14T20:30:00Z")))
                .isFalse();
        // Algeria's numbers have Europe/Paris (UTC+2 in summer), Algeria keeps UTC+1: at 07:30Z on 1 July it is 08:30
        // in Algiers, before the window, though 09:30 in Paris.
        assertThat(CallingWindows.nextOpening("+213551234567", CallingWindow.DEFAULT,
                Instant.parse("2026-07-01T07:30:00Z"))).isEqualTo(Instant.parse("2026-07-01T08:00:00Z"));
        // Cancún's area has America/New_York; Quintana Roo keeps UTC-5 all year.
        assertThat(CallingWindows.zonesOf("+529981234567")).contains(ZoneId.of("America/Cancun"));
    }

    /**
     * Every region's example numbers are timed by at least one clock of the region's own zones in the tz database (its
     * {@code zone.tab}), whatever zone libphonenumber's data names: a sweep that finds the next neighbour's zone its
     * data names for a country.
     */
    @Test
    void everyRegionsExampleNumbersKeepAClockOfTheRegionsOwnZones() {
        PhoneNumberUtil util = PhoneNumberUtil.getInstance();
        Instant now = Instant.now();
        List<String> offClock = new ArrayList<>();
        for (String region : util.getSupportedRegions()) {
            List<ZoneId> own = RegionZones.of(region);
            for (PhoneNumberType type : List.of(PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE)) {
                PhoneNumber example = util.getExampleNumberForType(region, type);
                if (own.isEmpty() || example == null) {
                    continue;
                }
                String number = util.format(example, PhoneNumberFormat.E164);
                List<ZoneId> zones = CallingWindows.zonesOf(number);
                boolean keepsOne = zones.stream().anyMatch(zone -> own.stream().anyMatch(country ->
                        CallingWindows.apartAtMost(zone, country, 0, now.minus(Duration.ofDays(366)),
                                now.plus(Duration.ofDays(366)))));
                if (!keepsOne) {
                    offClock.add(region + " " + number + " " + zones);
                }
            }
        }
        assertThat(offClock).as("example numbers timed by no clock of their region's zones").isEmpty();
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
    void aWindowWhoseStartTheClocksSkipOpensWhenTheySkipIt() {
        // 2026-03-08 in New York: 02:00 EST becomes 03:00 EDT (07:00 UTC); there is no 02:30 that day.
        CallingWindow earlyMorning = new CallingWindow(LocalTime.of(2, 30), LocalTime.of(5, 0));
        Instant oneAm = Instant.parse("2026-03-08T06:00:00Z");

        assertThat(CallingWindows.nextOpening(NEW_YORK, earlyMorning, oneAm))
                .isEqualTo(Instant.parse("2026-03-08T07:00:00Z"));
    }

    @Test
    void windowsThatNeverOverlapAcrossTheZonesOpenWhereTheMostZonesAreOpenAtOnceAndTheOpeningHolds() {
        // One hour a day cannot be open from Guam to Samoa at once: the strict rule cannot be met whole.
        CallingWindow oneHour = new CallingWindow(LocalTime.of(9, 0), LocalTime.of(10, 0));
        List<ZoneId> zones = CallingWindows.zonesOf(US_TOLL_FREE);
        Instant night = ZonedDateTime.of(2026, 3, 2, 2, 0, 0, 0, ZoneId.of("America/New_York")).toInstant();

        Instant opening = CallingWindows.nextOpening(US_TOLL_FREE, oneHour, night);

        assertThat(opening).isAfter(night);
        // No instant of the next day has the hour open in more of the zones (minute by minute).
        long openThen = openZones(zones, oneHour, opening);
        for (Instant at = night; at.isBefore(night.plus(Duration.ofDays(1))); at = at.plusSeconds(60)) {
            assertThat(openZones(zones, oneHour, at)).as(at.toString()).isLessThanOrEqualTo(openThen);
        }
        assertThat(openThen).isGreaterThan(1).isLessThan(zones.size());
        // Asked again at the opening (a deferred call coming back), the answer is that opening: it is dialled, not
        // deferred to the next zone's opening again and again.
        assertThat(CallingWindows.nextOpening(US_TOLL_FREE, oneHour, opening)).isEqualTo(opening);
    }

    @Test
    void aNumberWithoutAKnownZoneHasEveryZoneOfItsCountryNotUtc() {
        // Area code 999 is in no plan libphonenumber knows: its zone is unknown, its country is not.
        String unplaced = "+19995550123";
        // 10:00 UTC is 05:00 in New York and midnight in Honolulu: open in UTC, closed across the United States.
        Instant tenUtc = Instant.parse("2026-03-02T10:00:00Z");

        assertThat(CallingWindows.zonesOf(unplaced))
                .contains(ZoneId.of("America/New_York"), ZoneId.of("Pacific/Honolulu"))
                .doesNotContain(ZoneOffset.UTC);
        assertThat(CallingWindows.isOpen(unplaced, CallingWindow.DEFAULT, tenUtc)).isFalse();
        Instant opening = CallingWindows.nextOpening(unplaced, CallingWindow.DEFAULT, tenUtc);
        for (String zone : List.of("America/New_York", "Pacific/Honolulu")) {
            assertThat(CallingWindow.DEFAULT.contains(opening.atZone(ZoneId.of(zone)).toLocalTime())).as(zone).isTrue();
        }
        // A number with no country of its own (international freephone) has no local time but UTC.
        assertThat(CallingWindows.zonesOf("+80012345678")).containsExactly(ZoneOffset.UTC);
    }

    @Test
    void aMobileOfACallingCodeSeveralCountriesShareHasItsOwnCountrysZones() {
        // libphonenumber gives a Jamaican mobile every zone of +1, from Guam to Samoa.
        assertThat(CallingWindows.zonesOf("+18762101234")).containsExactly(ZoneId.of("America/Jamaica"));
    }

    @Test
    void aKazakhMobileOpensInKazakhstansWindowNotWhereMostZonesOfPlusSevenAreOpen() {
        // +7's zones (Kaliningrad to Kamchatka) never share two hours: the most-zones fallback answered 21:00 UTC,
        // 02:00 in Almaty.
        CallingWindow eightToTen = new CallingWindow(LocalTime.of(8, 0), LocalTime.of(10, 0));

        Instant opening = CallingWindows.nextOpening("+77710009998", eightToTen, Instant.parse("2026-01-14T06:00:00Z"));

        assertThat(eightToTen.contains(opening.atZone(ZoneId.of("Asia/Almaty")).toLocalTime())).as(opening.toString())
                .isTrue();
    }

    @Test
    void aNumberOfAnAreaCodeNewerThanTheZoneDataHasItsCountrysZones() throws IOException {
        assertThat(CallingWindows.zonesOf("+17382001234"))
                .isSubsetOf(zoneTab("US"))
                .contains(ZoneId.of("America/New_York"), ZoneId.of("America/Chicago"), ZoneId.of("Pacific/Honolulu"))
                .doesNotContain(ZoneId.of("Pacific/Guam"), ZoneId.of("Pacific/Pago_Pago"));
        assertThat(CallingWindows.zonesOf("+12732001234"))
                .isSubsetOf(zoneTab("CA"))
                .contains(ZoneId.of("America/Toronto"), ZoneId.of("America/Vancouver"))
                .doesNotContain(ZoneId.of("Pacific/Guam"), ZoneId.of("Pacific/Pago_Pago"));
    }

    @Test
    void aNumberLibphonenumberPlacesInAnAreaOrThatHasACallingCodeOfItsOwnKeepsItsZones() {
        assertThat(CallingWindows.zonesOf(NEW_YORK)).containsExactly(ZoneId.of("America/New_York"));
        assertThat(CallingWindows.zonesOf("+18769261234")).containsExactly(ZoneId.of("America/Jamaica"));
        assertThat(CallingWindows.zonesOf("+74951234567")).containsExactly(ZoneId.of("Europe/Moscow"));
        assertThat(CallingWindows.zonesOf("+4915123456789")).containsExactly(ZoneId.of("Europe/Berlin"));
    }

    @Test
    void aTollFreeNumberValidAcrossItsCallingCodeKeepsEveryZoneOfIt() {
        // libphonenumber names the United States as its region only because it is the first of +1's.
        assertThat(CallingWindows.zonesOf(US_TOLL_FREE))
                .contains(ZoneId.of("Pacific/Guam"), ZoneId.of("America/Puerto_Rico"), ZoneId.of("America/New_York"));
    }

    @Test
    void aNonPhoneDestinationOfAnAccountInACountrySharingItsCallingCodeHasThatCountrysZones() throws IOException {
        String sip = "sip:alice@pbx.example.com";
        String indianCaller = "+918068281234";

        assertThat(CallingWindows.zonesFor(sip, indianCaller, "JM")).containsExactly(ZoneId.of("America/Jamaica"));
        assertThat(CallingWindows.zonesFor(sip, indianCaller, "US")).isSubsetOf(zoneTab("US"))
                .contains(ZoneId.of("America/New_York")).doesNotContain(ZoneId.of("Pacific/Guam"));
        assertThat(CallingWindows.zonesFor(sip, indianCaller, "DE")).containsExactly(ZoneId.of("Europe/Berlin"));
    }

    /** +1 is shared: a New York caller ID is a number of the United States, not of Jamaica. */
    @Test
    void aNonPhoneDestinationsCallerIdIsOfTheAccountsRegionOnlyByThatRegionsOwnPlan() {
        String sip = "sip:alice@pbx.example.com";
        String newYorkCaller = "+12124561234";
        String jamaicanCaller = "+18762101234";

        assertThat(CallingWindows.zonesFor(sip, newYorkCaller, "JM")).containsExactly(ZoneId.of("America/Jamaica"));
        assertThat(CallingWindows.zonesFor(sip, newYorkCaller, "US")).containsExactly(ZoneId.of("America/New_York"));
        assertThat(CallingWindows.zonesFor(sip, jamaicanCaller, "JM")).containsExactly(ZoneId.of("America/Jamaica"));
    }

    @Test
    void aWindowThatReopensWhenTheClocksGoBackOpensThen() {
        // 05:45 UTC on 2026-11-01 is 01:45 EDT, after a 20:00–01:30 window; at 06:00 UTC New York's clocks go back to
        // 01:00 EST, inside it again.
        CallingWindow lateEvening = new CallingWindow(LocalTime.of(20, 0), LocalTime.of(1, 30));
        Instant quarterToTwoSummerTime = Instant.parse("2026-11-01T05:45:00Z");

        assertThat(CallingWindows.isOpen(NEW_YORK, lateEvening, quarterToTwoSummerTime)).isFalse();
        assertThat(CallingWindows.nextOpening(NEW_YORK, lateEvening, quarterToTwoSummerTime))
                .isEqualTo(Instant.parse("2026-11-01T06:00:00Z"));
    }

    @Test
    void aWindowStartingInTheHourTheClocksRepeatOpensWhenItIsReachedTheSecondTime() {
        // 2026-11-01 in New York: 02:00 EDT becomes 01:00 EST (06:00 UTC), so 01:30 comes twice, at 05:30 and 06:30
        // UTC. At 06:10 UTC (01:10 EST) the window opens at the second 01:30, not a day later.
        CallingWindow night = new CallingWindow(LocalTime.of(1, 30), LocalTime.of(8, 0));
        Instant tenPastOneWinterTime = Instant.parse("2026-11-01T06:10:00Z");

        assertThat(CallingWindows.isOpen(NEW_YORK, night, tenPastOneWinterTime)).isFalse();
        assertThat(CallingWindows.nextOpening(NEW_YORK, night, tenPastOneWinterTime))
                .isEqualTo(Instant.parse("2026-11-01T06:30:00Z"));
    }

    /** The zones {@code zone.tab} lists for {@code country}, read here as a reader of the file would. */
    private static List<ZoneId> zoneTab(String country) throws IOException {
        try (InputStream in = CallingWindowsTest.class.getResourceAsStream("/tz/zone.tab")) {
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII).lines()
                    .filter(row -> !row.startsWith("#"))
                    .map(row -> row.split("\t"))
                    .filter(columns -> columns[0].equals(country) && ZoneId.getAvailableZoneIds().contains(columns[2]))
                    .map(columns -> ZoneId.of(columns[2]))
                    .toList();
        }
    }

    private static long openZones(List<ZoneId> zones, CallingWindow window, Instant at) {
        return zones.stream().filter(zone -> window.contains(at.atZone(zone).toLocalTime())).count();
    }
}
