package dev.dialer.dispatcher.callback;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Verifies jambonz's {@code Jambonz-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>}.
 * A timestamp further than the tolerance from now is refused, so a captured callback cannot be replayed later; one
 * replayed within it finds its status transition made already, or its answering-machine result kept already.
 * jambonz signs with the webhook secret of the account that placed the call: with carriers on several accounts, a
 * signature made with any of their secrets is valid (each compared in constant time).
 */
final class JambonzSignature {

    static final String HEADER = "Jambonz-Signature";

    private final List<byte[]> secrets;
    private final Duration tolerance;
    private final Clock clock;

    JambonzSignature(String secret, Duration tolerance, Clock clock) {
        this(List.of(secret), tolerance, clock);
    }

    /** @param secrets the accounts' webhook secrets; the first signs ({@link #sign}) */
    JambonzSignature(List<String> secrets, Duration tolerance, Clock clock) {
        if (secrets.isEmpty()) {
            throw new IllegalArgumentException("at least one webhook secret is needed");
        }
        this.secrets = secrets.stream().map(secret -> secret.getBytes(StandardCharsets.UTF_8)).toList();
        this.tolerance = tolerance;
        this.clock = clock;
    }

    /** Whether {@code header} is a fresh, valid signature of exactly these body bytes. */
    boolean verify(String header, byte[] body) {
        if (header == null || header.isBlank()) {
            return false;
        }
        Long timestamp = null;
        List<byte[]> signatures = new ArrayList<>();
        for (String part : header.split(",")) {
            String[] pair = part.strip().split("=", 2);
            if (pair.length != 2) {
                continue;
            }
            if (pair[0].equals("t")) {
                timestamp = parseLong(pair[1]);
            } else if (pair[0].equals("v1")) {
                byte[] signature = parseHex(pair[1]);
                if (signature != null) {
                    signatures.add(signature);
                }
            }
        }
        if (timestamp == null || signatures.isEmpty() || !fresh(timestamp)) {
            return false;
        }
        long signedAt = timestamp;
        boolean valid = false;
        for (byte[] secret : secrets) {
            byte[] expected = hmac(secret, signedAt, body);
            for (byte[] signature : signatures) {
                // No early exit: the time taken does not tell which secret, or whether any, matched.
                valid |= MessageDigest.isEqual(expected, signature);
            }
        }
        return valid;
    }

    /** The {@code t=} of a signature header (unix seconds, when the carrier signed); null when it has none. */
    static Long signedAt(String header) {
        if (header == null) {
            return null;
        }
        for (String part : header.split(",")) {
            String[] pair = part.strip().split("=", 2);
            if (pair.length == 2 && pair[0].equals("t")) {
                return parseLong(pair[1]);
            }
        }
        return null;
    }

    /** The header value for {@code body} signed at {@code unixSeconds}. */
    String sign(long unixSeconds, byte[] body) {
        return "t=" + unixSeconds + ",v1=" + HexFormat.of().formatHex(hmac(secrets.get(0), unixSeconds, body));
    }

    private boolean fresh(long unixSeconds) {
        long skew = Math.abs(clock.instant().getEpochSecond() - unixSeconds);
        return skew <= tolerance.toSeconds();
    }

    private static byte[] hmac(byte[] secret, long unixSeconds, byte[] body) {
        return CallbackKeys.hmacSha256(secret, (unixSeconds + ".").getBytes(StandardCharsets.UTF_8), body);
    }

    private static Long parseLong(String text) {
        try {
            return Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static byte[] parseHex(String text) {
        try {
            return HexFormat.of().parseHex(text.strip());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
