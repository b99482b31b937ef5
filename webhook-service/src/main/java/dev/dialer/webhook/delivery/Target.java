package dev.dialer.webhook.delivery;

import java.util.Locale;

/**
 * One place an event is sent to.
 *
 * @param kind   the webhook the request names, or one of its per-request hooks
 * @param id     the webhook's id, or the hook kind's tag for a hook (hooks have no id of their own)
 * @param url    where the event goes
 * @param method HTTP method ({@code POST} for webhooks)
 * @param secret {@code whsec_} signing secret, or null when the event is sent unsigned
 * @param previousSecret during a secret rotation, the secret being replaced (a second signature), else null
 */
record Target(Kind kind, String id, String url, String method, String secret, String previousSecret) {

    Target(Kind kind, String id, String url, String method, String secret) {
        this(kind, id, url, method, secret, null);
    }

    /**
     * A directory webhook named by its id alone, for a delivery stored before its first try: its URL and secrets are
     * looked up at each try ({@link DeliveryTask}), and stored deliveries keep none.
     */
    static Target storedWebhook(Kind kind, String id) {
        return new Target(kind, id, null, "POST", null);
    }

    /** Where a target comes from; the {@code target} tag of the delivery metrics (bounded). */
    enum Kind {
        /** The webhook the request names by id, from the directory. */
        WEBHOOK("webhook"),
        /** A webhook of the account subscribed to the event's type. */
        SUBSCRIPTION("subscription"),
        /** The request's {@code notify_url}: every event. */
        NOTIFY("notify_url"),
        /** The request's {@code action_hook}: the final event only. */
        ACTION("action_hook"),
        /** The request's {@code amd_hook} (its {@code amd.actionHook}): the events carrying a detection only. */
        AMD("amd_hook");

        private final String wire;

        Kind(String wire) {
            this.wire = wire;
        }

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The {@code target} of a published delivery attempt. */
        String wire() {
            return wire;
        }

        /** Whether the target is a webhook from the directory (with its own id, secret and health). */
        boolean isWebhook() {
            return this == WEBHOOK || this == SUBSCRIPTION;
        }
    }
}
