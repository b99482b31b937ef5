package dev.dialer.webhook.delivery;

import java.util.Locale;

/**
 * How the delivery of one event to one webhook ended. The event's record is acknowledged once there is an outcome.
 * A {@link Status#FAILED} outcome is where a durable retry schedule (a PostgreSQL retry table) takes over from the
 * in-line attempts; today it is logged and counted.
 *
 * @param status     delivered, failed (given up) or skipped (not sent at all)
 * @param reason     why: {@link Reason#OK} when delivered, the last attempt's failure, or why it was skipped
 * @param attempts   HTTP attempts made (0 when skipped)
 * @param statusCode the last answer's status, or null
 */
record DeliveryOutcome(Status status, Reason reason, int attempts, Integer statusCode) {

    enum Status {
        DELIVERED, FAILED, SKIPPED;

        String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    static DeliveryOutcome after(int attempts, AttemptResult last) {
        return new DeliveryOutcome(last.succeeded() ? Status.DELIVERED : Status.FAILED, last.reason(), attempts,
                last.statusCode());
    }

    static DeliveryOutcome skipped(Reason reason) {
        return skipped(reason, 0);
    }

    /** Skipped after {@code attempts} attempts: a target refused before a retry. */
    static DeliveryOutcome skipped(Reason reason, int attempts) {
        return new DeliveryOutcome(Status.SKIPPED, reason, attempts, null);
    }
}
