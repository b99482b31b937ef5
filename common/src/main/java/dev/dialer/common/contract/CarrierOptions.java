package dev.dialer.common.contract;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a command's {@code carrier_options} may carry through to the carrier, for api-service, which refuses what would
 * be left out, and the dispatcher, which leaves it out: one list, so the two cannot drift apart.
 */
public final class CarrierOptions {

    /**
     * The {@code tag} keys the dispatcher writes its own values over: the correlation ids it reads back from every
     * callback ({@code customerData}), the carrier's route, when and which dial was sent, the application run, and
     * the seal of the ids.
     */
    public static final Set<String> RESERVED_TAG_KEYS = Set.of("request_id", "attempt", "account_id", "caller_id",
            "flow_id", "carrier", "sent_at", "dial", "seal");

    /**
     * SIP header names (lower case) the SIP trunk carrier never adds as given: the dialog's own header fields (and
     * their compact forms), the body's ({@code Content-*}: a {@code Content-Encoding} would make our SDP unreadable),
     * the extensions the dialer does not implement and may not be made to ask for ({@code Require},
     * {@code Supported}, {@code Proxy-Require}, {@code RSeq}, {@code RAck}: {@code 100rel} wants a PRACK the dialer
     * never sends, and the trunk would hold back the answer, then fail the call), the route and credentials it sets,
     * and the dialer's correlation headers; every other name under {@link #DIALER_SIP_HEADERS} is refused too, kept
     * for headers the dialer may set later.
     */
    public static final Set<String> RESERVED_SIP_HEADERS = Set.of("via", "v", "from", "f", "to", "t", "call-id", "i",
            "cseq", "contact", "m", "max-forwards", "content-type", "c", "content-length", "l", "content-encoding",
            "e", "content-disposition", "content-language", "require", "supported", "k", "proxy-require", "rseq",
            "rack", "route", "record-route", "authorization", "proxy-authorization", "x-dialer-request-id",
            "x-dialer-attempt", "x-dialer-account-id", "x-dialer-flow-id", "x-dialer-audio", "x-dialer-variables");

    /**
     * SIP header names (lower case) that present who calls: a trusted trunk takes the number in them as the caller's,
     * so an account held to its allowed caller IDs is held to them in these headers too. The Voice Gateway's document
     * gives {@code P-Preferred-Identity} as a custom header a request may set.
     */
    public static final Set<String> CALLER_HEADERS = Set.of("p-asserted-identity", "p-preferred-identity",
            "remote-party-id", "diversion");
    /**
     * The longest value of a SIP header a request may set: a header is a line of an INVITE, which a trunk takes over
     * UDP in well under this.
     */
    public static final int MAX_SIP_HEADER_VALUE = 2_048;
    /** What ends a SIP URI's user information ({@code @} among them) or a tel URI's number. */
    private static final String URI_STOPS = "@;>,? \t\n\u000B\f\r";
    private static final Pattern DIGIT = Pattern.compile("[0-9]");

    /** The prefix (lower case) of the SIP headers that are the dialer's own, {@code X-Dialer-*}. */
    public static final String DIALER_SIP_HEADERS = "x-dialer-";

    /** A day: the longest ring timeout ({@code timeout}) or time limit ({@code timeLimit}) a command may ask for. */
    public static final long MAX_SECONDS = 86_400;

    /** The longest {@code callerName} the SIP trunk carrier writes whole as the {@code From}'s display name. */
    public static final int MAX_DISPLAY_NAME = 128;

    /** An RFC 3261 header name: a token. */
    private static final Pattern SIP_TOKEN = Pattern.compile("[A-Za-z0-9!%*_+`'~.-]+");
    /** A host name (RFC 1123 labels), an IPv4 address, or an IPv6 reference in brackets. */
    private static final Pattern HOST = Pattern.compile(
            "(?i)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\\.?"
                    + "|\\[[0-9a-f:.]+]");

    private CarrierOptions() {
    }

    /**
     * Whether {@code name} is a header name the SIP trunk carrier adds as given: a token, not reserved, not one of
     * the dialer's own ({@code X-Dialer-*}).
     */
    public static boolean isAllowedSipHeaderName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return isSipToken(name) && !RESERVED_SIP_HEADERS.contains(lower) && !lower.startsWith(DIALER_SIP_HEADERS);
    }

    /**
     * The numbers each of a command's caller headers ({@link #CALLER_HEADERS}, in {@code carrier_options.headers})
     * presents, by the header's name as given: the user of each {@code sip:}, {@code sips:} or {@code tel:} URI in
     * it, its escapes decoded and without a password ({@link #userOf}), that has a digit
     * ({@code sip:anonymous@anonymous.invalid} presents none): a phone number, or one that is not and reads as no
     * allowed caller ID, so it is refused where the account has a list, rather than let through for a trunk to read.
     * Empty when there are none.
     */
    public static Map<String, List<String>> callerHeaders(Map<String, Object> carrierOptions) {
        if (carrierOptions == null || !(carrierOptions.get("headers") instanceof Map<?, ?> headers)) {
            return Map.of();
        }
        Map<String, List<String>> callers = new LinkedHashMap<>();
        headers.forEach((name, value) -> {
            boolean caller = CALLER_HEADERS.contains(String.valueOf(name).toLowerCase(Locale.ROOT));
            if (caller && value != null) {
                List<String> numbers = new ArrayList<>();
                // Not a string only in a command written straight to Kafka: the SIP trunk writes it as its text.
                for (String userInfo : callerUsers(String.valueOf(value))) {
                    String user = userOf(userInfo);
                    if (DIGIT.matcher(user).find()) {
                        numbers.add(user);
                    }
                }
                if (!numbers.isEmpty()) {
                    callers.put(String.valueOf(name), List.copyOf(numbers));
                }
            }
        });
        return callers;
    }

    /**
     * The user information of each SIP URI in {@code value} (before its {@code @}: a SIP URI without one names a
     * host, no user) and the number of each tel URI, in order: what a caller header's numbers are written as. One
     * pass over the text, whatever it holds (a command written straight to Kafka is not held to
     * {@link #MAX_SIP_HEADER_VALUE}): a search that went back over a URI's text would take time growing with the
     * square of the length of a value such as {@code sip:sip:sip:…}.
     */
    static List<String> callerUsers(String value) {
        List<String> users = new ArrayList<>();
        int length = value.length();
        int at = 0;
        while (at < length) {
            boolean sips = startsAt(value, at, "sips:");
            if (sips || startsAt(value, at, "sip:")) {
                int start = at + (sips ? 5 : 4);
                int end = uriEnd(value, start, true);
                if (end > start && end < length && value.charAt(end) == '@') {
                    users.add(value.substring(start, end));
                    at = end + 1;
                } else {
                    // No user: a SIP URI within this text has none either, a tel URI within it is one.
                    int tel = indexOfTel(value, at + 1, end);
                    at = tel >= 0 ? tel : Math.max(end, at + 1);
                }
            } else if (startsAt(value, at, "tel:")) {
                int end = uriEnd(value, at + 4, false);
                if (end > at + 4) {
                    users.add(value.substring(at + 4, end));
                    at = end;
                } else {
                    at++;
                }
            } else {
                at++;
            }
        }
        return users;
    }

    /**
     * Where the URI text from {@code start} ends: at a stop ({@link #URI_STOPS}, with {@code @} or not), or the end.
     */
    private static int uriEnd(String value, int start, boolean atStops) {
        int end = start;
        while (end < value.length()) {
            char c = value.charAt(end);
            if (URI_STOPS.indexOf(c) >= 0 && (atStops || c != '@')) {
                break;
            }
            end++;
        }
        return end;
    }

    /**
     * Whether {@code scheme} (lower case) is written at {@code at}, in any case of ASCII letters only: as a SIP
     * grammar reads it ({@code ſip:} is no SIP URI, though Java's case folding takes {@code ſ} for {@code s}).
     */
    private static boolean startsAt(String value, int at, String scheme) {
        if (at + scheme.length() > value.length()) {
            return false;
        }
        for (int i = 0; i < scheme.length(); i++) {
            char c = value.charAt(at + i);
            char lower = c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
            if (lower != scheme.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** The first {@code tel:} (any case) that starts from {@code from} and before {@code to}; -1 when none. */
    private static int indexOfTel(String value, int from, int to) {
        for (int at = from; at < to; at++) {
            if (startsAt(value, at, "tel:")) {
                return at;
            }
        }
        return -1;
    }

    /**
     * What a caller URI's user information presents: its user, escapes decoded ({@link #unescaped}), without a
     * password ({@code user:password}).
     */
    private static String userOf(String userInfo) {
        String user = unescaped(userInfo);
        int password = user.indexOf(':');
        return password < 0 ? user : user.substring(0, password);
    }

    /**
     * A URI's user part with its {@code %HH} escapes decoded: RFC 3261 (19.1.4) holds an escaped character and the
     * character itself the same, so {@code sip:%2B15551234567@…} presents {@code +15551234567} to a trunk. An escape
     * that is not one (its two characters not both ASCII hex digits) stays as written, and one of a byte outside ASCII
     * gives a character no number has.
     */
    static String unescaped(String user) {
        if (user.indexOf('%') < 0) {
            return user;
        }
        StringBuilder decoded = new StringBuilder(user.length());
        for (int i = 0; i < user.length(); i++) {
            char c = user.charAt(i);
            int high = c == '%' && i + 2 < user.length() ? hex(user.charAt(i + 1)) : -1;
            int low = high < 0 ? -1 : hex(user.charAt(i + 2));
            if (low < 0) {
                decoded.append(c);
            } else {
                decoded.append((char) (high * 16 + low));
                i += 2;
            }
        }
        return decoded.toString();
    }

    /**
     * The value of an ASCII hex digit, -1 for any other character: RFC 3986's {@code HEXDIG} is ASCII, and a trunk does
     * not read another script's digit ({@code %٣٧}) as an escape, so neither does the dialer.
     */
    private static int hex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    /** Every number the command's caller headers present ({@link #callerHeaders}). */
    public static List<String> assertedCallers(Map<String, Object> carrierOptions) {
        return callerHeaders(carrierOptions).values().stream().flatMap(List::stream).toList();
    }

    /** Whether {@code name} is an RFC 3261 token. */
    public static boolean isSipToken(String name) {
        return SIP_TOKEN.matcher(name).matches();
    }

    /**
     * {@code option} ({@code timeout} or {@code timeLimit}) of a command's {@code carrier_options} as the carriers read
     * it: a whole number of seconds above 0, counted for at most {@link #MAX_SECONDS}; null when it is anything else
     * (or absent), and the carrier's default applies.
     */
    public static Long seconds(Map<String, Object> carrierOptions, String option) {
        Object value = carrierOptions.get(option);
        if (value instanceof BigInteger big) { // past a long: its longValue() would keep only the low 64 bits
            return big.signum() > 0 ? MAX_SECONDS : null;
        }
        return value instanceof Number number && number.longValue() > 0
                ? Math.min(number.longValue(), MAX_SECONDS) : null;
    }

    /** Whether {@code fromHost} is what the SIP trunk carrier takes as its {@code From} URI's host. */
    public static boolean isHost(String fromHost) {
        return HOST.matcher(fromHost).matches();
    }

    /** Whether {@code value} can be a header's value: nothing that would end the header line. */
    public static boolean isSipHeaderValue(String value) {
        return value.indexOf('\r') < 0 && value.indexOf('\n') < 0;
    }
}
