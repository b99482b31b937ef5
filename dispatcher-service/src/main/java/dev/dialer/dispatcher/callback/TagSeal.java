package dev.dialer.dispatcher.callback;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The seal of the tag a create-call request gives the carrier ({@code customerData.seal} in its callbacks): an
 * HMAC-SHA256, under a key only the dispatchers hold ({@code dialer.dispatcher.carrier.tag-keys}), of the ids the
 * tag names: request, attempt, dial, carrier and caller ID. jambonz signs a call's callbacks with the webhook secret
 * of the account that placed it, and with carriers on several accounts a callback signed with any of their secrets is
 * accepted; the seal is what keeps a holder of one account's secret from writing callbacks about calls placed on
 * another's, which it never saw the tags of (decision 0149).
 *
 * <p>The first key seals; every key verifies. Any dispatcher may take any callback, so a key is rotated in three
 * roll-outs: {@code old,new} (all verify the new key before any seals with it), {@code new,old}, then {@code new} once
 * the calls sealed under the old one have ended. Without keys ({@link #NONE}) nothing is sealed and every tag is taken
 * as it comes.
 */
public final class TagSeal {

    /** The tag field that carries the seal. */
    public static final String FIELD = "seal";
    /** No keys: tags are not sealed, and any tag is accepted. */
    public static final TagSeal NONE = new TagSeal(List.of());
    /** The HMAC's first 16 bytes: as much as an attacker would have to guess, blind, for each forged callback. */
    private static final int LENGTH = 16;
    private static final Base64.Encoder BASE64 = Base64.getUrlEncoder().withoutPadding();

    private final List<byte[]> keys;

    private TagSeal(List<byte[]> keys) {
        this.keys = keys;
    }

    /** The keys of a {@code tag-keys} setting (comma-separated, the sealing one first); {@link #NONE} for none. */
    public static TagSeal of(String setting) {
        List<byte[]> keys = CallbackKeys.listed(setting).stream()
                .map(key -> key.getBytes(StandardCharsets.UTF_8))
                .toList();
        return keys.isEmpty() ? NONE : new TagSeal(keys);
    }

    /** Whether tags are sealed, and callbacks' tags must carry a valid seal. */
    public boolean enabled() {
        return !keys.isEmpty();
    }

    /** The seal of a tag naming these ids; null without keys. */
    public String seal(String requestId, int attempt, int dial, String carrier, String callerId) {
        if (keys.isEmpty()) {
            return null;
        }
        return BASE64.encodeToString(mac(keys.get(0), requestId, attempt, dial, carrier, callerId));
    }

    /**
     * Whether {@code seal} is the seal of a tag naming these ids under one of the keys; true for anything without
     * keys. A tag missing any of the ids has no valid seal.
     */
    public boolean verifies(String seal, String requestId, Integer attempt, Integer dial, String carrier,
                            String callerId) {
        if (keys.isEmpty()) {
            return true;
        }
        if (seal == null || requestId == null || attempt == null || dial == null || carrier == null
                || callerId == null) {
            return false;
        }
        byte[] given;
        try {
            given = Base64.getUrlDecoder().decode(seal);
        } catch (IllegalArgumentException e) {
            return false;
        }
        boolean valid = false;
        for (byte[] key : keys) {
            // No early exit: the time taken does not tell which key, or whether any, matched.
            valid |= MessageDigest.isEqual(mac(key, requestId, attempt, dial, carrier, callerId), given);
        }
        return valid;
    }

    /** Each id length-prefixed, so that no two tags' ids run together into the same text. */
    private static byte[] mac(byte[] key, String requestId, int attempt, int dial, String carrier, String callerId) {
        StringBuilder text = new StringBuilder(96);
        for (String part : new String[] {requestId, Integer.toString(attempt), Integer.toString(dial), carrier,
                callerId}) {
            text.append(part.length()).append(':').append(part).append('\n');
        }
        return Arrays.copyOf(CallbackKeys.hmacSha256(key, text.toString().getBytes(StandardCharsets.UTF_8)), LENGTH);
    }
}
