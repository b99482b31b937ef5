package dev.dialer.webhook.delivery;

import java.util.Locale;

/** Why a delivery or an attempt ended as it did; the {@code reason} tag of the delivery metrics (bounded). */
enum Reason {
    /** The endpoint answered 2xx. */
    OK,
    /** The endpoint answered 410 Gone: no further try, and a webhook is disabled. */
    GONE,
    /** The endpoint answered, but not 2xx (redirects included: they are not followed). */
    HTTP_STATUS,
    /** The attempt did not finish within its connect or total timeout. */
    TIMEOUT,
    /** The connection failed or broke. */
    CONNECTION,
    /**
     * The target cannot be called as configured: malformed URL (a hook's URL that the API would have refused, see
     * {@code HookUrls}), unusable secret.
     */
    INVALID_TARGET,
    /** No webhook with the event's id appeared in time, or it was deleted. */
    UNKNOWN_WEBHOOK,
    /** The webhook exists but is disabled. */
    DISABLED,
    /** The webhook belongs to another account than the event. */
    FOREIGN_ACCOUNT,
    /**
     * A subscriber's stored delivery came due after its subscription to the event's type was deleted, disabled or
     * narrowed: dropped, not sent.
     */
    UNSUBSCRIBED,
    /** The endpoint already has its limit of tries in flight: refused here, not counted as a try. */
    ENDPOINT_BUSY,
    /** The endpoint's circuit is open after many failures: refused here, not counted as a try. */
    CIRCUIT_OPEN,
    /**
     * The endpoint answered an earlier try of the account 429 with a {@code Retry-After} that has not passed: refused
     * here, not counted as a try.
     */
    RATE_LIMITED,
    /** The event is larger than the payload cap. */
    PAYLOAD_TOO_LARGE,
    /** The target's URL is not http(s) or resolves to an address that must not be called (see TargetGuard). */
    FORBIDDEN_TARGET,
    /**
     * PostgreSQL refused for good to store the delivery for a retry (a value too large for an index of the retry table,
     * say): given up at once, since handling it again would only be refused again.
     */
    UNSTORABLE;

    String tag() {
        return name().toLowerCase(Locale.ROOT);
    }
}
