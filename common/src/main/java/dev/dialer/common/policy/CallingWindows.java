package dev.dialer.common.policy;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberToTimeZonesMapper;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import dev.dialer.common.contract.AccountSettings.CallingWindow;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * When a number may be called: its calling window in the recipient's local time. A number's time zones come from
 * libphonenumber; where a number spans several zones the strictest rule applies: the window must be open in all of
 * them at once.
 */
public final class CallingWindows {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();
    private static final PhoneNumberToTimeZonesMapper ZONES = PhoneNumberToTimeZonesMapper.getInstance();
    /** How far ahead a common opening is looked for; windows that never overlap fall back to any single zone. */
    private static final int DAYS_AHEAD = 3;

    private CallingWindows() {
    }

    /** The time zones of an E.164 number; UTC when libphonenumber knows none. */
    public static List<ZoneId> zonesOf(String e164) {
        List<ZoneId> zones = new ArrayList<>();
        try {
            for (String id : ZONES.getTimeZonesForNumber(UTIL.parse(e164, null))) {
                if (!PhoneNumberToTimeZonesMapper.getUnknownTimeZone().equals(id)) {
                    zones.add(ZoneId.of(id));
                }
            }
        } catch (NumberParseException | RuntimeException e) {
            // An unparsable number has no known zone; it is refused elsewhere, the window check must not fail.
        }
        return zones.isEmpty() ? List.of(ZoneOffset.UTC) : zones;
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
        List<ZoneId> zones = zonesOf(e164);
        if (openInAll(zones, window, now)) {
            return now;
        }
        TreeSet<Instant> starts = windowStarts(zones, window, now);
        for (Instant candidate : starts) {
            if (openInAll(zones, window, candidate)) {
                return candidate;
            }
        }
        // The zones' windows never overlap: the strict rule cannot be met, so the window counts as open wherever it is
        // open (now, if it is open in a zone now; else the earliest opening in any zone, which this answers again
        // when asked then, so a call made to wait for it is dialled then rather than made to wait again).
        if (openInAny(zones, window, now)) {
            return now;
        }
        return starts.isEmpty() ? now : starts.first();
    }

    private static boolean openInAny(List<ZoneId> zones, CallingWindow window, Instant at) {
        for (ZoneId zone : zones) {
            if (window.contains(at.atZone(zone).toLocalTime())) {
                return true;
            }
        }
        return false;
    }

    private static TreeSet<Instant> windowStarts(List<ZoneId> zones, CallingWindow window, Instant now) {
        TreeSet<Instant> starts = new TreeSet<>();
        for (ZoneId zone : zones) {
            LocalDate today = now.atZone(zone).toLocalDate();
            for (int day = -1; day <= DAYS_AHEAD; day++) {
                Instant start = ZonedDateTime.of(today.plusDays(day), window.start(), zone).toInstant();
                if (start.isAfter(now)) {
                    starts.add(start);
                }
            }
        }
        return starts;
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
