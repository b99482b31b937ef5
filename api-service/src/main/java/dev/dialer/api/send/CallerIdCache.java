package dev.dialer.api.send;

import dev.dialer.common.phone.PhoneNumbers;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Caller IDs as {@link PhoneNumbers#normalize} reads them, remembered: an account sends from a handful of caller IDs,
 * so every send after the first skips parsing its {@code bridge} again (the answer depends only on the text and the
 * region). Bounded: when full it starts again empty.
 */
final class CallerIdCache {

    static final int MAX_ENTRIES = 10_000;
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
