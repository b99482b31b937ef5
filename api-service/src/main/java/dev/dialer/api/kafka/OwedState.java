package dev.dialer.api.kafka;

import java.util.Locale;
import java.util.Optional;

/**
 * An object whose state on a compacted topic api-service may owe Kafka (decision 0129): the one a change publishes
 * and whose committed state must be the last record under its key once the change's outcome is known. Named by what
 * a {@link CommittedStates} of its kind needs to read and lock that state again.
 *
 * @param kind      what the object is
 * @param accountId the account that has it
 * @param objectId  the campaign's name, the webhook's or subscription's id, the account's id for its settings
 */
public record OwedState(Kind kind, String accountId, String objectId) {

    /** The kinds of object a change publishes; also a metric tag, so a fixed few. */
    public enum Kind {
        CAMPAIGN, WEBHOOK, SUBSCRIPTION, SETTINGS;

        /** As stored in {@code api.owed_states.kind} and tagged on metrics. */
        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The kind {@code wire} names; empty for one this version does not know (written by a newer one). */
        static Optional<Kind> of(String wire) {
            for (Kind kind : values()) {
                if (kind.wire().equals(wire)) {
                    return Optional.of(kind);
                }
            }
            return Optional.empty();
        }
    }

    public static OwedState campaign(String accountId, String campaign) {
        return new OwedState(Kind.CAMPAIGN, accountId, campaign);
    }

    public static OwedState webhook(String accountId, String webhookId) {
        return new OwedState(Kind.WEBHOOK, accountId, webhookId);
    }

    public static OwedState subscription(String accountId, String subscriptionId) {
        return new OwedState(Kind.SUBSCRIPTION, accountId, subscriptionId);
    }

    public static OwedState settings(String accountId) {
        return new OwedState(Kind.SETTINGS, accountId, accountId);
    }

    /** For the logs: {@code webhook <id> of account <id>}, {@code the settings of account <id>}. */
    @Override
    public String toString() {
        return kind == Kind.SETTINGS ? "the settings of account " + accountId
                : kind.wire() + " " + objectId + " of account " + accountId;
    }
}
