package dev.dialer.api.send;

/** Lets tests in other packages compute the ids the API derives from an Idempotency-Key. */
public final class RequestIdsAccess {

    private RequestIdsAccess() {
    }

    public static String of(String accountId, String key, int index) {
        return RequestIds.of(accountId, key, index);
    }
}
