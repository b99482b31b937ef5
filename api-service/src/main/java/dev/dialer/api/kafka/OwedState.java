package dev.dialer.api.kafka;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * An object whose state on a compacted topic api-service may owe Kafka (decision 0129): the one a change publishes
 * and whose committed state must be the last record under its key once the change's outcome is known. Named by what
 * a {@link CommittedStates} of its kind needs to read and lock that state again.
 *
 * <p>A DNC change names the numbers it touched, one row for all of them (decision 0129, amended): an import of
 * thousands of numbers owes one row, restated in one transaction, not one per number.
 *
 * @param kind      what the object is
 * @param accountId the account that has it
 * @param objectId  the campaign's name, the webhook's or subscription's id, the account's id for its settings or its
 *                  DNC list
 * @param numbers   the numbers (E.164, sorted) of the account's DNC list a change touched; empty for any other kind
 */
public record OwedState(Kind kind, String accountId, String objectId, List<String> numbers) {

    public OwedState {
        numbers = List.copyOf(numbers);
    }

    public OwedState(Kind kind, String accountId, String objectId) {
        this(kind, accountId, objectId, List.of());
    }

    /** The kinds of object a change publishes; also a metric tag, so a fixed few. */
    public enum Kind {
        CAMPAIGN, WEBHOOK, SUBSCRIPTION, SETTINGS, DNC;

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

    /**
     * The entries of {@code numbers} on the account's DNC list, sorted: the order a change locks them in, so two
     * changes sharing numbers wait for each other instead of deadlocking.
     */
    public static OwedState dnc(String accountId, Collection<String> numbers) {
        return new OwedState(Kind.DNC, accountId, accountId, numbers.stream().sorted().distinct().toList());
    }

    /**
     * For the logs: {@code webhook <id> of account <id>}, {@code the settings of account <id>}; a DNC change by its
     * count of numbers, which are personal data.
     */
    @Override
    public String toString() {
        return switch (kind) {
            case SETTINGS -> "the settings of account " + accountId;
            case DNC -> "the DNC entries of " + numbers.size() + " number(s) of account " + accountId;
            default -> kind.wire() + " " + objectId + " of account " + accountId;
        };
    }
}
