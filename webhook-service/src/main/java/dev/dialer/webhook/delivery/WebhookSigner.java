package dev.dialer.webhook.delivery;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.Base64;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs deliveries the <a href="https://www.standardwebhooks.com">Standard Webhooks</a> way, so receivers can verify
 * them with any of its libraries: {@code webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>}
 * where the key is the base64-decoded part of the {@code whsec_} secret.
 */
final class WebhookSigner {

    static final String ID_HEADER = "webhook-id";
    static final String TIMESTAMP_HEADER = "webhook-timestamp";
    static final String SIGNATURE_HEADER = "webhook-signature";
    private static final String SECRET_PREFIX = "whsec_";
    private static final String HMAC = "HmacSHA256";

    private final Clock clock;

    WebhookSigner(Clock clock) {
        this.clock = clock;
    }

    /**
     * The signing headers for one attempt: the message id stays the same across retries (receivers de-duplicate by
     * it), the timestamp is the attempt's own (receivers reject old ones).
     *
     * @throws IllegalArgumentException when the secret is not base64 after its prefix
     */
    Map<String, String> headers(String secret, String messageId, byte[] body) {
        long timestamp = clock.instant().getEpochSecond();
        return Map.of(
                ID_HEADER, messageId,
                TIMESTAMP_HEADER, Long.toString(timestamp),
                SIGNATURE_HEADER, signature(secret, messageId, timestamp, body));
    }

    /**
     * The signing headers during a secret rotation: one signature per secret, space-separated as Standard Webhooks
     * specifies, so a receiver that knows either secret can verify. A null {@code previousSecret} signs once.
     */
    Map<String, String> headers(String secret, String previousSecret, String messageId, byte[] body) {
        if (previousSecret == null) {
            return headers(secret, messageId, body);
        }
        long timestamp = clock.instant().getEpochSecond();
        return Map.of(
                ID_HEADER, messageId,
                TIMESTAMP_HEADER, Long.toString(timestamp),
                SIGNATURE_HEADER, signature(secret, messageId, timestamp, body) + " "
                        + signature(previousSecret, messageId, timestamp, body));
    }

    /** The headers of an unsigned attempt: receivers still de-duplicate by id and can reject old timestamps. */
    Map<String, String> unsignedHeaders(String messageId) {
        return Map.of(ID_HEADER, messageId, TIMESTAMP_HEADER, Long.toString(clock.instant().getEpochSecond()));
    }

    static String signature(String secret, String messageId, long timestamp, byte[] body) {
        Mac mac = hmac(key(secret));
        mac.update((messageId + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
        return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
    }

    private static byte[] key(String secret) {
        String encoded = secret.startsWith(SECRET_PREFIX) ? secret.substring(SECRET_PREFIX.length()) : secret;
        return Base64.getDecoder().decode(encoded);
    }

    private static Mac hmac(byte[] key) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(key, HMAC));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }
}
