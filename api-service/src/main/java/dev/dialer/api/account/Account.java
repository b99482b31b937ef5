package dev.dialer.api.account;

/**
 * The authenticated caller of a request, put on the exchange by {@link ApiKeyAuthentication}; controllers take it
 * with {@code @RequestAttribute(Account.ATTRIBUTE)}.
 *
 * @param id            the account's id
 * @param name          its display name
 * @param defaultRegion ISO 3166 region used to read numbers written without a country code
 */
public record Account(String id, String name, String defaultRegion) {

    public static final String ATTRIBUTE = "dev.dialer.api.account";
}
