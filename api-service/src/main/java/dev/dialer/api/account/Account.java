package dev.dialer.api.account;

/** An authenticated caller of the API. */
public record Account(String id, String defaultRegion) {

    /** The exchange attribute under which the authenticated account travels. */
    public static final String ATTRIBUTE = "dev.dialer.api.account.Account";
}
