package dev.dialer.common.hook;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Each account's secret for its per-request hooks ({@code notify_url}, {@code action_hook}), derived from one signing
 * key: {@code whsec_ + base64(HMAC-SHA256(key, "hook-secret:" + accountId))}. webhook-service signs an account's hook
 * deliveries with it and api-service shows the account the same value, so nothing is stored or replicated; an account
 * cannot compute another's secret without the key. Changing the key changes every account's hook secret.
 */
public final class HookSecrets {

    /** A shorter key would make every account's secret easier to guess than a Standard Webhooks secret. */
    static final int MIN_KEY_BYTES = 16;
    private static final String PREFIX = "whsec_";
    private static final String HMAC = "HmacSHA256";
    private static final String CONTEXT = "hook-secret:";

    private final SecretKeySpec key;

    private HookSecrets(byte[] key) {
        this.key = new SecretKeySpec(key, HMAC);
    }

    /**
     * @param signingKey {@code whsec_<base64>} with at least 16 bytes of key
     * @throws IllegalArgumentException when the key is not {@code whsec_} base64 or too short
     */
    public static HookSecrets derivedFrom(String signingKey) {
        if (signingKey == null || !signingKey.startsWith(PREFIX)) {
            throw new IllegalArgumentException("the hook signing key must be whsec_<base64>");
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(signingKey.substring(PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the hook signing key is not base64 after whsec_", e);
        }
        if (key.length < MIN_KEY_BYTES) {
            throw new IllegalArgumentException("the hook signing key must hold at least " + MIN_KEY_BYTES
                    + " bytes, it holds " + key.length);
        }
        return new HookSecrets(key);
    }

    /** The account's {@code whsec_} hook secret; the same for the same key and account, wherever it is computed. */
    public String of(String accountId) {
        return PREFIX + Base64.getEncoder().encodeToString(
                mac().doFinal((CONTEXT + accountId).getBytes(StandardCharsets.UTF_8)));
    }

    private Mac mac() {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /** Never the key itself, should this land in a log line. */
    @Override
    public String toString() {
        return "HookSecrets[key hidden]";
    }
}
