package dev.dialer.dispatcher.pacing;

/**
 * Where a caller ID's rate comes from ({@link ConfiguredCallerLimits}: configuration and the accounts' settings read
 * from Kafka), so the lanes need not know.
 */
public interface CallerLimits {

    /**
     * @return calls per second the caller ID may start; 0 means no limit
     */
    double callerCps(String accountId, String callerId);

    /** Calls one caller ID may start back to back. */
    int callerBurst(String accountId, String callerId);
}
