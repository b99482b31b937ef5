package dev.dialer.simulator;

/** Decides how the simulated far end treats a call, from the dialled number alone so tests can choose. */
@FunctionalInterface
public interface OutcomeRule {

    /**
     * @param toNumber the dialled address ({@code to.number}, or {@code to.sipUri} / {@code to.name} for SIP and
     *                 user targets); may be {@code null}
     * @return the outcome, never {@code null}
     */
    Outcome decide(String toNumber);

    /**
     * The default rule, by the last digit of the dialled number (non-digits are ignored):
     * <ul>
     *   <li>{@code 0} → {@link Outcome#BUSY} (SIP 486 "Busy Here")</li>
     *   <li>{@code 1} → {@link Outcome#NO_ANSWER} (SIP 487 "Request Terminated" after the request's {@code timeout})</li>
     *   <li>{@code 2} → {@link Outcome#FAILED} (SIP 500 "Internal Server Error")</li>
     *   <li>{@code 3} → {@link Outcome#CAPACITY_REJECTED} (SIP 503 "Max Account Calls In Progress")</li>
     *   <li>any other digit, or no digit at all → {@link Outcome#ANSWERED}</li>
     * </ul>
     */
    static OutcomeRule lastDigit() {
        return LastDigitRule.INSTANCE;
    }

    /**
     * As {@link #lastDigit()}, except that a number ending in {@code 3} is refused for capacity at one dial and
     * answered at the next, in turn (its first dial is refused): the account's limit passes, as it does at a real
     * carrier once calls in progress end, so a caller requeueing the refused call sees it answered. With
     * {@link #lastDigit()} it is refused at every dial, and a caller that shrinks its concurrency at each refusal
     * stays at its floor for as long as it keeps requeueing the call. Each rule made here keeps its own turns.
     */
    static OutcomeRule lastDigitCapacityPasses() {
        return LastDigitRule.capacityPasses();
    }

    /**
     * Outcomes drawn at random with the given weights (e.g. answered 60, busy 20, no-answer 10, failed 5, capacity 5),
     * whatever the number.
     */
    static OutcomeRule weighted(java.util.Map<Outcome, Integer> weights) {
        return new WeightedRule(weights);
    }
}
