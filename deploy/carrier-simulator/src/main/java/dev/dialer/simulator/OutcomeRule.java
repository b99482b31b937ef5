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
     * Outcomes drawn at random with the given weights (e.g. answered 60, busy 20, no-answer 10, failed 5, capacity 5),
     * whatever the number.
     */
    static OutcomeRule weighted(java.util.Map<Outcome, Integer> weights) {
        return new WeightedRule(weights);
    }
}
