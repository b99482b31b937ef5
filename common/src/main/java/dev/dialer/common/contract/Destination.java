package dev.dialer.common.contract;

import java.util.regex.Pattern;

/**
 * The forms a command's {@code to} takes (ADR 0072): a phone number in E.164 ({@code +4930123456}), a SIP URI
 * ({@code sip:alice@pbx.example.com}, {@code sips:…}) or a registered SIP user of the Voice Gateway
 * ({@code user:alice}). Only a phone number has a country, hence time zones; the other two are matched as written
 * (DNC, per-callee cap) and addressed by the carrier as they are.
 */
public final class Destination {

    /** The longest SIP URI a command may name, scheme included. */
    public static final int MAX_SIP_URI = 1024;
    /** The longest registered user name. */
    public static final int MAX_USER_NAME = 128;
    /** How a registered user is written in a command's {@code to}. */
    public static final String USER_PREFIX = "user:";

    private static final Pattern PHONE = Pattern.compile("\\+[1-9][0-9]{5,14}");
    /** An RFC 3261 escape, {@code %} and two hex digits. */
    private static final String ESCAPED = "%[0-9A-Fa-f]{2}";
    /** RFC 3261 {@code user}: unreserved, escaped and user-unreserved characters, but {@code ,} and {@code ?}. */
    private static final String USER = "(?:[A-Za-z0-9\\-_.!~*'()&=+$;/]|" + ESCAPED + ")+";
    /** A host name or IPv4 address, or an IPv6 reference in brackets; an optional port. */
    private static final String HOST = "(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\\.?|\\[[0-9A-Fa-f:.]+])"
            + "(?::[0-9]{1,5})?";
    /** RFC 3261 {@code paramchar}: param-unreserved, unreserved and escaped characters. */
    private static final String PARAM = "(?:[A-Za-z0-9\\-_.!~*'()\\[\\]/:&+$]|" + ESCAPED + ")+";
    /**
     * A plain {@code sip:} or {@code sips:} URI in RFC 3261's character sets: an optional user (no password), a host,
     * then {@code ;} URI parameters. No headers ({@code ?…}): they would become header fields of the request, and
     * nothing that could close or split a header field ({@code < > " ,}, whitespace, control or non-ASCII characters).
     */
    private static final Pattern SIP_URI = Pattern.compile("sips?:(?:" + USER + "@)?" + HOST
            + "(?:;" + PARAM + "(?:=" + PARAM + ")?)*");
    /** Visible ASCII: a SIP user part cannot carry a space or a control character as written. */
    private static final Pattern USER_NAME = Pattern.compile("[\\x21-\\x7e]{1," + MAX_USER_NAME + "}");

    /** What kind of destination a {@code to} names. */
    public enum Kind {
        PHONE, SIP, USER, UNKNOWN
    }

    private Destination() {
    }

    public static Kind kindOf(String to) {
        if (to == null) {
            return Kind.UNKNOWN;
        }
        if (PHONE.matcher(to).matches()) {
            return Kind.PHONE;
        }
        if (isSipUri(to)) {
            return Kind.SIP;
        }
        if (to.startsWith(USER_PREFIX) && isUserName(to.substring(USER_PREFIX.length()))) {
            return Kind.USER;
        }
        return Kind.UNKNOWN;
    }

    /** Whether {@code to} is an E.164 phone number, the only form with a country and time zones. */
    public static boolean isPhone(String to) {
        return kindOf(to) == Kind.PHONE;
    }

    /**
     * A lower-case {@code sip:}/{@code sips:} URI of at most {@link #MAX_SIP_URI} characters, with a host, in RFC 3261's
     * character sets, without a password or headers.
     */
    public static boolean isSipUri(String text) {
        return text != null && text.length() <= MAX_SIP_URI && SIP_URI.matcher(text).matches();
    }

    /** 1 to {@link #MAX_USER_NAME} visible ASCII characters. */
    public static boolean isUserName(String name) {
        return name != null && USER_NAME.matcher(name).matches();
    }

    /** The {@code to} of a registered user: {@code user:<name>}. */
    public static String user(String name) {
        return USER_PREFIX + name;
    }

    /** The user name of a {@code user:<name>} destination. */
    public static String userName(String to) {
        return to.substring(USER_PREFIX.length());
    }
}
