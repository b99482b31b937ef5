package dev.dialer.common.trace;

import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The W3C trace context's {@code traceparent} (<a href="https://www.w3.org/TR/trace-context/">Trace Context</a>), as
 * the dialer carries it from a client's request through its records to the webhook deliveries: each service that
 * handles a call continues the trace with a span of its own (the same trace id and flags, a new parent id), so that a
 * call can be followed across the services by any tracing backend.
 */
public final class TraceParent {

    /** The header, on HTTP requests and on Kafka records alike. */
    public static final String HEADER = "traceparent";

    private static final Pattern VALID = Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})");
    private static final String NO_TRACE = "0".repeat(32);
    private static final String NO_PARENT = "0".repeat(16);

    private TraceParent() {
    }

    /**
     * A span within {@code incoming}'s trace, or the first span of a new trace (sampled) when it is absent or invalid.
     */
    public static String childOf(String incoming) {
        String child = continued(incoming);
        return child != null ? child : "00-" + randomHex(16) + "-" + randomHex(8) + "-01";
    }

    /** A span within {@code incoming}'s trace; null when it is absent or invalid, where no trace is to be followed. */
    public static String continued(String incoming) {
        Matcher match = match(incoming);
        return match == null ? null : "00-" + match.group(1) + "-" + randomHex(8) + "-" + match.group(3);
    }

    /** {@code traceparent} itself when it is a valid one, which {@link #continued} would continue; null otherwise. */
    public static String ifValid(String traceparent) {
        return match(traceparent) == null ? null : traceparent;
    }

    /** The parts of a valid {@code traceparent} (trace id, parent id, flags); null for none or an invalid one. */
    private static Matcher match(String traceparent) {
        if (traceparent == null) {
            return null;
        }
        Matcher match = VALID.matcher(traceparent.strip());
        return match.matches() && !match.group(1).equals(NO_TRACE) && !match.group(2).equals(NO_PARENT) ? match
                : null;
    }

    /** Random ids, never all zeros (which the specification reserves for "none"); not secrets, so not secure. */
    private static String randomHex(int bytes) {
        byte[] random = new byte[bytes];
        String hex;
        do {
            ThreadLocalRandom.current().nextBytes(random);
            hex = HexFormat.of().formatHex(random);
        } while (hex.chars().allMatch(c -> c == '0'));
        return hex;
    }
}
