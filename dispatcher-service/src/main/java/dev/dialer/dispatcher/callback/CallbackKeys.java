package dev.dialer.dispatcher.callback;

import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * What the keys that authenticate carrier callbacks have in common, the accounts' webhook secrets
 * ({@link JambonzSignature}) and the tag keys ({@link TagSeal}): how a setting lists several, and the MAC they make.
 */
final class CallbackKeys {

    private CallbackKeys() {
    }

    /**
     * The keys a setting lists, separated by commas (while one is rotated, the new and the old one), each trimmed;
     * empty entries are none. Empty for a null setting.
     */
    static List<String> listed(String setting) {
        if (setting == null) {
            return List.of();
        }
        return Arrays.stream(setting.split(",")).map(String::trim).filter(key -> !key.isEmpty()).toList();
    }

    /** HMAC-SHA256 under {@code key} of {@code parts}, one after the other. */
    static byte[] hmacSha256(byte[] key, byte[]... parts) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            for (byte[] part : parts) {
                mac.update(part);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }
}
