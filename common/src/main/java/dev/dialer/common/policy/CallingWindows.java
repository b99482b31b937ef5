package dev.dialer.common.policy;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberToTimeZonesMapper;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber;
import dev.dialer.common.contract.AccountSettings.CallingWindow;
import dev.dialer.common.contract.Destination;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When a number may be called: its calling window in the recipient's local time. A number's time zones come from
 * libphonenumber, or, where it names only every zone of a calling code several countries share, from the tz database's
 * zones of the number's own country ({@link #zonesOf}). Where a number spans several zones the strictest rule applies:
 * the window must be open in all of them at once. A destination that is not a number (a SIP URI, a registered user) is
 * timed by {@link #zonesFor}.
 */
public final class CallingWindows {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();
    private static final PhoneNumberToTimeZonesMapper ZONES = PhoneNumberToTimeZonesMapper.getInstance();
    /** The zones the JDK can tell the local time of (libphonenumber's "unknown" is not one of them). */
    private static final Set<String> JDK_ZONES = Set.copyOf(ZoneId.getAvailableZoneIds());
    /** How far ahead a common opening is looked for; windows that never overlap fall back to the most zones at once. */
    private static final int DAYS_AHEAD = 3;
    /** The North American Numbering Plan's calling code, whose zones libphonenumber keys by exchange. */
    private static final int NANP = 1;
    private static final Map<Integer, List<String>> NANP_AREAS = new ConcurrentHashMap<>();
    /**
     * +1 overlay area codes whose one fallback zone in libphonenumber's data is not all of the overlaid area's, by the
     * area code they overlay: their numbers are timed by the overlaid area's zones. 474 overlays Saskatchewan's 306
     * and 639 (America/Regina, UTC−6 all year), and the data gives it America/Winnipeg, which keeps daylight saving
     * time: called from 08:00 local time in summer. The others overlay areas that span two zones, and the data gives
     * them one: 448 (850, Florida's panhandle: Central and Eastern), 930 (812, Indiana), 364 (270, Kentucky), 458
     * (541, Oregon: Pacific and Mountain), 236, 672 and 778 (250, British Columbia: Pacific and Mountain), 581 and 367
     * (418, Quebec: Eastern and Atlantic).
     */
    private static final Map<Integer, Integer> NANP_OVERLAID = Map.ofEntries(Map.entry(474, 306),
            Map.entry(448, 850), Map.entry(930, 812), Map.entry(364, 270), Map.entry(458, 541), Map.entry(236, 250),
            Map.entry(672, 250), Map.entry(778, 250), Map.entry(581, 418), Map.entry(367, 418));
    /**
     * Clocks libphonenumber's data misses for numbers it places in another zone of their own country, by the number's
     * leading digits (calling code and national number): {@link #onTheirCountriesClocks} adds a clock only for a zone
     * that keeps none of its country's, so these are added by hand, under the strict rule. Recife's area 81 is given
     * America/Noronha (an hour ahead); Chihuahua's areas America/Mazatlan (UTC−7; Chihuahua keeps UTC−6 since 2022),
     * Ciudad Juárez's and Ojinaga's Hermosillo's (they keep the United States' daylight saving time); Mexico's border
     * areas on the Rio Grande Mexico City's (they keep the United States' too); Magallanes' Santiago's; Saratov's
     * Moscow's (Saratov keeps UTC+4).
     */
    private static final Map<String, ZoneId> MISSED_CLOCKS = missedClocks();
    /** The longest key of {@link #MISSED_CLOCKS}. */
    private static final int MISSED_CLOCK_DIGITS = 5;
    /** {@link #onTheirCountriesClocks}'s answers, by calling code and libphonenumber's zones. */
    private static final Map<CodeZones, List<ZoneId>> CHECKED_ZONES = new ConcurrentHashMap<>();
    private static final int ONE_HOUR = 3_600;

    private CallingWindows() {
    }

    /**
     * The time zones a destination's calling window is applied in: a phone number's own ({@link #zonesOf}); for a SIP
     * URI or a registered user, which have no number, the caller ID's own ({@link #zonesOf}: area by area, so a New
     * York caller ID gives New York's) when it is a number of the account's default region (by that region's own
     * numbering plan where several countries share its calling code) or the account names none, else every zone of that
     * region: its calling code's, or, where several countries share the code, the region's own in the tz database (ADR
     * 0072, 0113). A country's zones can be far apart (the United States' run from Hawaii to New York), which is why
     * the caller ID's area comes first: the strict rule applies to several zones as to a number's.
     *
     * @param to            the command's {@code to}
     * @param callerId      the caller ID, E.164
     * @param defaultRegion the account's default region (ISO 3166), null when its settings name none
     */
    public static List<ZoneId> zonesFor(String to, String callerId, String defaultRegion) {
        if (Destination.isPhone(to)) {
            return zonesOf(to);
        }
        Phonenumber.PhoneNumber caller = parsed(callerId);
        int regionCountry = defaultRegion == null ? 0 : UTIL.getCountryCodeForRegion(defaultRegion);
        if (regionCountry == 0 || ofRegion(caller, defaultRegion, regionCountry)) {
            return caller == null || caller.getCountryCode() == 0 ? List.of(ZoneOffset.UTC) : zonesOf(callerId);
        }
        if (sharedCallingCode(regionCountry)) {
            return zonesOfRegion(defaultRegion, regionCountry);
        }
        return onTheirCountriesClocks(regionCountry, countryZones(regionCountry));
    }

    private static Phonenumber.PhoneNumber parsed(String e164) {
        try {
            return UTIL.parse(e164, null);
        } catch (NumberParseException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Whether the caller ID is a number of {@code region}: of its calling code, and where several countries share the
     * code, of the region's own numbering plan (a New York number is not Jamaica's, though both are +1).
     */
    private static boolean ofRegion(Phonenumber.PhoneNumber caller, String region, int regionCountry) {
        return caller != null && caller.getCountryCode() == regionCountry
                && (!sharedCallingCode(regionCountry) || UTIL.isValidNumberForRegion(caller, region));
    }

    /** Every zone of a country calling code (libphonenumber's country-level entry); UTC for none. */
    private static List<ZoneId> countryZones(int countryCode) {
        List<ZoneId> zones = countryCode == 0 ? List.of() : known(countryZoneIds(countryCode));
        return zones.isEmpty() ? List.of(ZoneOffset.UTC) : zones;
    }

    private static List<String> countryZoneIds(int countryCode) {
        // A national number of "0" matches no area, so the look-up falls back to the country code's own entry.
        return ZONES.getTimeZonesForGeographicalNumber(new Phonenumber.PhoneNumber()
                .setCountryCode(countryCode).setNationalNumber(0));
    }

    /** The zones of {@code ids} the JDK knows, in their order: a name newer than its tz data is left out. */
    static List<ZoneId> known(List<String> ids) {
        List<ZoneId> zones = new ArrayList<>();
        for (String id : ids) {
            if (JDK_ZONES.contains(id)) {
                zones.add(ZoneId.of(id));
            }
        }
        return zones;
    }

    /**
     * The time zones of an E.164 number: its area's where libphonenumber places it in one (a New York fixed line has
     * New York's). Where libphonenumber names no zone or every zone of the calling code (a mobile, an area code newer
     * than its data) and several countries share that code, the zones its own country has in the tz database's
     * {@code zone.tab}: a Jamaican mobile has Jamaica's, not every zone of +1 from Guam to Samoa. Its own country is
     * the one region of the calling code whose numbering plan holds it; a number several regions' plans hold (a +1
     * toll-free number) keeps every zone of its calling code, as does one no plan holds, one of a country
     * {@code zone.tab} lists no zone for, and one of a calling code of one country that libphonenumber cannot place.
     * Several zones are under the strict rule: UTC is nobody's local time. Only a number without a country of its own
     * (the international freephone +800, the other non-geographic codes) or one that cannot be read is timed in UTC.
     */
    public static List<ZoneId> zonesOf(String e164) {
        Phonenumber.PhoneNumber number;
        try {
            number = UTIL.parse(e164, null);
        } catch (NumberParseException | RuntimeException e) {
            // An unparsable number has no known zone; it is refused elsewhere, the window check must not fail.
            return List.of(ZoneOffset.UTC);
        }
        return withMissedClock(number, zonesOf(number));
    }

    private static List<ZoneId> zonesOf(Phonenumber.PhoneNumber number) {
        int countryCode = number.getCountryCode();
        List<String> ids = ZONES.getTimeZonesForNumber(number);
        if (countryCode == NANP && !ids.isEmpty() && !namesEveryZoneOf(NANP, ids)) {
            ids = nanpZones(number.getNationalNumber(), ids);
        }
        List<ZoneId> zones = known(ids);
        if (sharedCallingCode(countryCode) && (zones.isEmpty() || namesEveryZoneOf(countryCode, ids))) {
            String own = ownRegion(number);
            if (own != null) {
                return zonesOfRegion(own, countryCode);
            }
            zones = List.of();
        }
        return onTheirCountriesClocks(countryCode, zones.isEmpty() ? countryZones(countryCode) : zones);
    }

    /**
     * {@code zones}, libphonenumber's for a number of {@code countryCode}, each kept, and where one keeps the clock of
     * none of the zones the tz database gives the calling code's countries, those of them whose clock is never more
     * than an hour from its: its data often names a neighbouring country's zone, whose daylight saving time the
     * number's country does not keep (Morocco's numbers have Atlantic/Canary's, Algeria's Europe/Paris', Cancún's
     * America/New_York's), and timed by it alone the number would be called up to an hour outside its window. Under the
     * strict rule the window must be open by both clocks. A zone's clock is compared over a year either side of the
     * first time it is asked. Found once for each calling code and zones.
     */
    static List<ZoneId> onTheirCountriesClocks(int countryCode, List<ZoneId> zones) {
        if (zones.equals(List.of(ZoneOffset.UTC))) {
            return zones;
        }
        return CHECKED_ZONES.computeIfAbsent(new CodeZones(countryCode, zones), key -> {
            Set<ZoneId> own = new LinkedHashSet<>();
            UTIL.getRegionCodesForCountryCode(countryCode).forEach(region -> own.addAll(RegionZones.of(region)));
            Instant now = Instant.now();
            Instant from = now.minus(Duration.ofDays(366));
            Instant to = now.plus(Duration.ofDays(366));
            Set<ZoneId> checked = new LinkedHashSet<>(zones);
            for (ZoneId zone : zones) {
                if (own.stream().noneMatch(country -> apartAtMost(zone, country, 0, from, to))) {
                    own.stream().filter(country -> apartAtMost(zone, country, ONE_HOUR, from, to))
                            .forEach(checked::add);
                }
            }
            return List.copyOf(checked);
        });
    }

    /** {@code zones} and the clock of {@link #MISSED_CLOCKS} the number's leading digits name, if any. */
    private static List<ZoneId> withMissedClock(Phonenumber.PhoneNumber number, List<ZoneId> zones) {
        String digits = number.getCountryCode() + Long.toString(number.getNationalNumber());
        for (int length = Math.min(MISSED_CLOCK_DIGITS, digits.length()); length > 1; length--) {
            ZoneId missed = MISSED_CLOCKS.get(digits.substring(0, length));
            if (missed != null) {
                if (zones.contains(missed)) {
                    return zones;
                }
                List<ZoneId> with = new ArrayList<>(zones);
                with.add(missed);
                return List.copyOf(with);
            }
        }
        return zones;
    }

    /** {@link #MISSED_CLOCKS}, each zone the JDK knows ({@link #known}; one newer than its tz data is left out). */
    private static Map<String, ZoneId> missedClocks() {
        Map<String, String> clocks = new java.util.HashMap<>();
        clocks.put("5581", "America/Recife");
        for (String area : List.of("614", "625", "627", "628", "629", "635", "636", "639", "648", "652", "659")) {
            clocks.put("52" + area, "America/Chihuahua");
        }
        clocks.put("52656", "America/Ciudad_Juarez");
        clocks.put("52626", "America/Ojinaga");
        for (String area : List.of("868", "899", "867", "878", "877")) {
            clocks.put("52" + area, "America/Matamoros");
        }
        clocks.put("5661", "America/Punta_Arenas");
        clocks.put("7845", "Europe/Saratov");
        Map<String, ZoneId> zones = new java.util.HashMap<>();
        clocks.forEach((digits, id) -> known(List.of(id)).forEach(zone -> zones.put(digits, zone)));
        return Map.copyOf(zones);
    }

    /** A calling code and libphonenumber's zones for a number of it: the key of {@link #CHECKED_ZONES}. */
    private record CodeZones(int countryCode, List<ZoneId> zones) {
    }

    /** Whether the clocks of {@code a} and {@code b} are never more than {@code seconds} apart between the instants. */
    static boolean apartAtMost(ZoneId a, ZoneId b, int seconds, Instant from, Instant to) {
        ZoneRules first = a.getRules();
        ZoneRules second = b.getRules();
        // Each clock's offset holds between its transitions: comparing them at every transition of either is enough.
        TreeSet<Instant> changes = new TreeSet<>(List.of(from));
        transitions(first, from, to, changes);
        transitions(second, from, to, changes);
        for (Instant change : changes) {
            if (Math.abs(first.getOffset(change).getTotalSeconds() - second.getOffset(change).getTotalSeconds())
                    > seconds) {
                return false;
            }
        }
        return true;
    }

    private static void transitions(ZoneRules rules, Instant from, Instant to, Set<Instant> into) {
        for (ZoneOffsetTransition change = rules.nextTransition(from);
                change != null && change.getInstant().isBefore(to);
                change = rules.nextTransition(change.getInstant())) {
            into.add(change.getInstant());
        }
    }

    /**
     * The zones of a +1 number libphonenumber places in an area: the exchange's own where its data names the exchange
     * (its answer differs from the area code's), else every zone any exchange of the area code is placed in. The data
     * keys +1 zones by exchange and gives each area code one fallback zone; where an area code spans two zones (423 in
     * Tennessee: Central by its fallback, Eastern for the exchanges listed), an exchange the data does not list (newer
     * than it) would be timed in the fallback zone alone, and called after 21:00 in the other. Under the strict rule it
     * is called only while every one of them is in its window. Each area code's zones are found once.
     */
    static List<String> nanpZones(long national, List<String> ids) {
        if (national < 2_000_000_000L || national > 9_999_999_999L) {
            return ids;
        }
        int area = (int) (national / 10_000_000L);
        if (!ids.equals(nanpGeographical(area * 10_000_000L))) {
            return ids;
        }
        Integer overlaid = NANP_OVERLAID.get(area);
        if (overlaid != null) {
            return NANP_AREAS.computeIfAbsent(overlaid, CallingWindows::zonesOfArea);
        }
        List<String> areaZones = NANP_AREAS.computeIfAbsent(area, CallingWindows::zonesOfArea);
        return areaZones.containsAll(ids) && areaZones.size() > ids.size() ? areaZones : ids;
    }

    /** Every zone libphonenumber places some exchange (200 to 999) of the +1 area code {@code area} in. */
    private static List<String> zonesOfArea(int area) {
        Set<String> zones = new TreeSet<>(nanpGeographical(area * 10_000_000L));
        for (int exchange = 200; exchange <= 999; exchange++) {
            zones.addAll(nanpGeographical(area * 10_000_000L + exchange * 10_000L));
        }
        zones.remove(PhoneNumberToTimeZonesMapper.getUnknownTimeZone());
        return List.copyOf(zones);
    }

    /** libphonenumber's zones of the +1 national number, however its data places it (its fallbacks included). */
    private static List<String> nanpGeographical(long national) {
        return ZONES.getTimeZonesForGeographicalNumber(new Phonenumber.PhoneNumber().setCountryCode(NANP)
                .setNationalNumber(national));
    }

    private static boolean sharedCallingCode(int countryCode) {
        return UTIL.getRegionCodesForCountryCode(countryCode).size() > 1;
    }

    /** Whether {@code ids} are the calling code's own entry, not an area's (which names fewer: New York's alone). */
    private static boolean namesEveryZoneOf(int countryCode, List<String> ids) {
        List<String> country = countryZoneIds(countryCode);
        return ids.size() >= country.size() && ids.containsAll(country);
    }

    /** The tz database's zones of {@code region}, a region of {@code countryCode}; the code's where it lists none. */
    private static List<ZoneId> zonesOfRegion(String region, int countryCode) {
        List<ZoneId> zones = RegionZones.of(region);
        return zones.isEmpty() ? countryZones(countryCode) : zones;
    }

    /**
     * The one region of its calling code whose numbering plan {@code number} belongs to; null when it belongs to none
     * or to several. libphonenumber's {@code getRegionCodeForNumber} answers the first of several: a +1 toll-free
     * number, valid across the whole plan, would be the United States', and called on their hours in Guam.
     */
    private static String ownRegion(Phonenumber.PhoneNumber number) {
        String own = null;
        for (String region : UTIL.getRegionCodesForCountryCode(number.getCountryCode())) {
            if (UTIL.isValidNumberForRegion(number, region)) {
                if (own != null) {
                    return null;
                }
                own = region;
            }
        }
        return own;
    }

    /** Whether {@code window} is open at {@code now} in every zone of {@code e164}. */
    public static boolean isOpen(String e164, CallingWindow window, Instant now) {
        return openInAll(zonesOf(e164), window, now);
    }

    /**
     * The first instant at or after {@code now} at which {@code window} is open in every zone of the number:
     * {@code now} itself when it is open already.
     */
    public static Instant nextOpening(String e164, CallingWindow window, Instant now) {
        return nextOpening(zonesOf(e164), window, now);
    }

    /**
     * The first instant at or after {@code now} at which {@code window} is open in every one of {@code zones}
     * ({@link #zonesFor}): {@code now} itself when it is open already. A window opens in a zone at its start or when
     * the zone's clocks change (a window of 20:00–01:30, closed at 01:45 summer time, opens at the change back to
     * 01:00 winter time), so the instants looked at are those, over the next few days.
     */
    public static Instant nextOpening(List<ZoneId> zones, CallingWindow window, Instant now) {
        if (openInAll(zones, window, now)) {
            return now;
        }
        TreeSet<Instant> openings = windowStarts(zones, window, now);
        openings.addAll(clockChanges(zones, now));
        for (Instant candidate : openings) {
            if (openInAll(zones, window, candidate)) {
                return candidate;
            }
        }
        // The zones' windows never overlap: the strict rule cannot be met whole, so it is met as far as it can be: the
        // window must be open in as many of the zones as it is at once at best within a day. That many is reached at
        // a zone's opening (a count of open zones only grows when one opens: at its start or a change of its clocks),
        // so now or one of the day's openings has it. A day later the same instants come round with the same counts,
        // so the same answer comes when asked then, and a call made to wait for it is dialled then, not made to wait
        // again (unless clocks change between).
        Instant dayAhead = now.plus(Duration.ofDays(1));
        int most = openCount(zones, window, now);
        for (Instant candidate : openings.headSet(dayAhead, true)) {
            most = Math.max(most, openCount(zones, window, candidate));
        }
        if (openCount(zones, window, now) == most) {
            return now;
        }
        for (Instant candidate : openings.headSet(dayAhead, true)) {
            if (openCount(zones, window, candidate) == most) {
                return candidate;
            }
        }
        return now;
    }

    private static int openCount(List<ZoneId> zones, CallingWindow window, Instant at) {
        int open = 0;
        for (ZoneId zone : zones) {
            if (window.contains(at.atZone(zone).toLocalTime())) {
                open++;
            }
        }
        return open;
    }

    private static TreeSet<Instant> windowStarts(List<ZoneId> zones, CallingWindow window, Instant now) {
        TreeSet<Instant> starts = new TreeSet<>();
        for (ZoneId zone : zones) {
            LocalDate today = now.atZone(zone).toLocalDate();
            for (int day = -1; day <= DAYS_AHEAD; day++) {
                LocalDate date = today.plusDays(day);
                Instant start = startOf(date, window.start(), zone);
                if (start.isAfter(now)) {
                    starts.add(start);
                }
                // A start inside the hour the clocks repeat is reached twice: the second time is a start too.
                Instant again = ZonedDateTime.of(LocalDateTime.of(date, window.start()), zone)
                        .withLaterOffsetAtOverlap().toInstant();
                if (again.isAfter(now)) {
                    starts.add(again);
                }
            }
        }
        return starts;
    }

    /** The instants after {@code now} at which a zone's clocks change, as far ahead as window starts are looked. */
    private static TreeSet<Instant> clockChanges(List<ZoneId> zones, Instant now) {
        Instant horizon = now.plus(Duration.ofDays(DAYS_AHEAD + 1));
        TreeSet<Instant> changes = new TreeSet<>();
        for (ZoneId zone : zones) {
            ZoneRules rules = zone.getRules();
            ZoneOffsetTransition change = rules.nextTransition(now);
            while (change != null && !change.getInstant().isAfter(horizon)) {
                changes.add(change.getInstant());
                change = rules.nextTransition(change.getInstant());
            }
        }
        return changes;
    }

    /**
     * The instant the window opens on {@code day}: its start in local time, or, when the clocks skip that time (a
     * start inside a daylight-saving gap), the instant they skip it, from which the local time is past the start.
     */
    static Instant startOf(LocalDate day, LocalTime start, ZoneId zone) {
        LocalDateTime local = LocalDateTime.of(day, start);
        ZoneOffsetTransition gap = zone.getRules().getTransition(local);
        if (gap != null && gap.isGap()) {
            return gap.getInstant();
        }
        return ZonedDateTime.of(local, zone).toInstant();
    }

    private static boolean openInAll(List<ZoneId> zones, CallingWindow window, Instant at) {
        for (ZoneId zone : zones) {
            if (!window.contains(at.atZone(zone).toLocalTime())) {
                return false;
            }
        }
        return true;
    }
}
