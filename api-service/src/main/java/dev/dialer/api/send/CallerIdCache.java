package dev.dialer.api.send;

import dev.dialer.common.phone.PhoneNumbers;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Caller IDs as {@link PhoneNumbers#normalize} reads them, remembered: an account sends from a handful of caller IDs,
 * so every send after the first skips parsing its {@code bridge} again (the answer depends only on the text and the
 * region). Bounded: when full it starts again empty. Only valid numbers of at most {@value #MAX_KEY_CHARS} characters
 * are kept: the text is the client's, and an account sending junk or huge values must neither fill the map with them
 * nor push the caller IDs of other accounts out of it.
 */
final class CallerIdCache {

    static final int MAX_ENTRIES = 10_000;
    /** Longer than any phone number written with separators: the send request refuses a longer {@code bridge}. */
    static final int MAX_KEY_CHARS = 64;
    private static final Map<String, PhoneNumbers.Result> RESULTS = new ConcurrentHashMap<>();

    private CallerIdCache() {
    }

    static PhoneNumbers.Result normalize(String raw, String region) {
        String key = region + '\n' + raw;
        PhoneNumbers.Result known = RESULTS.get(key);
        if (known != null) {
            return known;
        }
        PhoneNumbers.Result result = PhoneNumbers.normalize(raw, region);
        if (!result.valid() || raw.length() > MAX_KEY_CHARS) {
            return result;
        }
        if (RESULTS.size() >= MAX_ENTRIES) {
            RESULTS.clear();
        }
        RESULTS.put(key, result);
        return result;
    }

    static int size() {
        return RESULTS.size();
    }
}
