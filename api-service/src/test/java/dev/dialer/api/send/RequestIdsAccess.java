package dev.dialer.api.send;

/** Lets tests in other packages compute the ids the API derives from an Idempotency-Key or a foreign_id. */
public final class RequestIdsAccess {

    private RequestIdsAccess() {
    }

    public static String of(String accountId, String key, int index) {
        return RequestIds.of(accountId, key, index);
    }

    public static String ofForeignId(String accountId, String foreignId, String calleeE164) {
        return RequestIds.ofForeignId(accountId, foreignId, calleeE164);
    }
}
