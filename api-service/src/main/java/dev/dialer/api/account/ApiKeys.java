package dev.dialer.api.account;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;

/**
 * API keys: 32 random bytes, URL-safe base64, prefixed {@code dk_}. Only their SHA-256 is stored. A fast hash is
 * enough because the key is 256 bits of randomness (no dictionary to attack), and it keeps the per-request check
 * cheap; bcrypt and the like exist for low-entropy passwords.
 */
public final class ApiKeys {

    public static final String PREFIX = "dk_";
    private static final SecureRandom RANDOM = new SecureRandom();

    private ApiKeys() {
    }

    public static String generate() {
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        return PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }

    /** Lower-case hex SHA-256 of the key's UTF-8 bytes: what {@code api.api_keys.key_hash} holds. */
    public static String hash(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
