package dev.dialer.api.problem;

/**
 * Lengths of client strings as the Kafka contract's {@code maxLength} (JSON Schema) and PostgreSQL count them: in
 * characters (Unicode code points), not in Java's UTF-16 units. A name of 100 emoji is 100 characters, as a producer
 * writing to Kafka directly may send it, and the API takes and finds it alike.
 */
public final class Characters {

    private Characters() {
    }

    /** Whether {@code text} has more than {@code max} characters. */
    public static boolean moreThan(String text, int max) {
        // Each code point is one or two units: at most max units is at most max characters, more than 2 max is more.
        int units = text.length();
        return units > max && (units > 2 * max || text.codePointCount(0, units) > max);
    }
}
