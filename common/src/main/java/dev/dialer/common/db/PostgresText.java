package dev.dialer.common.db;

/**
 * Text as PostgreSQL can store it: a NUL character (U+0000) becomes U+FFFD, as bytes that are not UTF-8 already do
 * when they are read as text. PostgreSQL keeps no NUL in a {@code text} column nor in a {@code jsonb} value, and
 * refuses the statement, every time: text taken from outside and kept as it came (an endpoint's answer, a carrier's
 * reason phrase) would otherwise lose the row it goes into and whatever change the same statement makes. Text the API
 * takes from its clients is refused with a NUL instead, before anything is done with it.
 */
public final class PostgresText {

    private PostgresText() {
    }

    /** {@code text} with each NUL replaced by U+FFFD: the same string when it holds none, and null for null. */
    public static String storable(String text) {
        return text == null || text.indexOf('\u0000') < 0 ? text : text.replace('\u0000', '\uFFFD');
    }
}
