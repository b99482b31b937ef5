package dev.dialer.common.contract;

import dev.dialer.common.phone.PhoneNumbers;
import java.time.Instant;

/**
 * A number an account must not call: the value of a compacted {@code dialer.dnc} record keyed by {@link #key()}; a
 * tombstone (null value) removes it. The dispatcher checks the list at dial time, so an entry added after a request
 * was accepted still blocks it. Its JSON Schema is {@code schemas/dnc-entry.v1.json}.
 *
 * @param version   contract version, {@value #VERSION}
 * @param accountId the owning account
 * @param number    the number in E.164
 * @param reason    why, as the customer gave it (optional)
 * @param addedAt   when it was added
 */
public record DncEntry(int version, String accountId, String number, String reason, Instant addedAt) {

    public static final int VERSION = 1;

    /** The record key: {@code <account>:<E.164 number>}. */
    public String key() {
        return key(accountId, number);
    }

    /**
     * The key the entry belongs under, its number in canonical E.164 ({@link PhoneNumbers#canonical}): the key
     * api-service writes, and the one a dial looks up (a command's callee is read into the same form). An outside
     * writer's {@code +4402071234567} is {@code +442071234567} here.
     */
    public String canonicalKey() {
        return key(accountId, PhoneNumbers.canonical(number));
    }

    public static String key(String accountId, String number) {
        return accountId + ":" + number;
    }

    /**
     * A record key as the key a dial looks up, {@code <account>:<E.164>}, when its number part is written in
     * international form, after {@code +} or {@code 00} ({@code acct:+4402071234567} and {@code acct:00442071234567}
     * are {@code acct:+442071234567}); otherwise the key as it is. For a record whose value cannot be read, whose key
     * alone says which number it asks to spare. Digits without either are not read as international: they may be a
     * national number, and a guess would spare a stranger's number instead (decision 0120).
     */
    public static String canonicalKeyOf(String recordKey) {
        int colon = recordKey.lastIndexOf(':');
        if (colon < 0) {
            return recordKey;
        }
        String number = recordKey.substring(colon + 1).strip();
        if (!number.startsWith("+") && !number.startsWith("00")) {
            return recordKey;
        }
        PhoneNumbers.Result canonical = PhoneNumbers.normalize(number, null);
        return canonical.valid() ? key(recordKey.substring(0, colon), canonical.e164()) : recordKey;
    }
}
