package dev.dialer.simulator;

/** What the simulated far end does with a call. */
public enum Outcome {
    /** Rings for the ring time, answers, talks for the talk time (or the request's {@code timeLimit}), hangs up. */
    ANSWERED,
    /** Rings for the ring time, then declines with SIP 486 "Busy Here": reported as {@code busy}. */
    BUSY,
    /** Rings until the request's {@code timeout} (default 60 s); the gateway cancels, SIP 487 → {@code no-answer}. */
    NO_ANSWER,
    /** Fails at once with SIP 500 "Internal Server Error": reported as {@code failed}. */
    FAILED,
    /**
     * The outbound SBC refuses the call for the account's concurrency limit: {@code failed} with SIP 503
     * "Max Account Calls In Progress", right after {@code trying} and without ringing.
     */
    CAPACITY_REJECTED
}
