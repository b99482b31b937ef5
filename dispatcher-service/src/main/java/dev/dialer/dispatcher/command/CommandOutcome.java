package dev.dialer.dispatcher.command;

import java.util.Locale;

/** What became of one command record; the {@code outcome} tag of {@code dialer.dispatcher.commands}. */
enum CommandOutcome {
    /** The carrier accepted the call. */
    DIALLED,
    /** The attempt was recorded before: a redelivery, not dialled again. */
    DUPLICATE,
    /** Not a valid command: sent to the DLQ. */
    DLQ,
    /** Held by the dial-time policy: ended (blocked, expired, canceled) or made to wait, with its event. */
    HELD_BY_POLICY,
    /**
     * The carrier did not accept the call: the attempt ended {@code failed}, and the request {@code failed} (or
     * {@code expired}, when no carrier took it and it could not be dialled again before its {@code valid_until}).
     */
    FAILED,
    /** No carrier could take the call (it was not placed): requeued to be dialled again under the same number. */
    REQUEUED,
    /** On the wrong partition for its caller ID (or keyed by something else): published again, keyed right. */
    REROUTED,
    /** An unexpected error; logged, and the record skipped so the partition goes on. */
    ERROR,
    /**
     * An unexpected error once the attempt's dial was claimed: the carrier may have the call, so its trunk slot is
     * kept (released by its end, or its slot's time limit) and the watchdog settles the attempt; otherwise as
     * {@link #ERROR}, and counted as one.
     */
    ERROR_AFTER_CLAIM;

    String wire() {
        return this == ERROR_AFTER_CLAIM ? ERROR.wire() : name().toLowerCase(Locale.ROOT);
    }

    /** Whether the record was kept aside (its DLQ copy acknowledges it). */
    boolean keptAside() {
        return this == ERROR || this == ERROR_AFTER_CLAIM;
    }
}
