package dev.dialer.simulator;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** See {@link OutcomeRule#lastDigit()} and {@link OutcomeRule#lastDigitCapacityPasses()}. */
final class LastDigitRule implements OutcomeRule {

    static final LastDigitRule INSTANCE = new LastDigitRule(false);

    private final boolean capacityPasses;
    /** With {@link #capacityPasses}: the numbers whose last dial was refused for capacity, whose next one is not. */
    private final Set<String> refused = ConcurrentHashMap.newKeySet();

    private LastDigitRule(boolean capacityPasses) {
        this.capacityPasses = capacityPasses;
    }

    static LastDigitRule capacityPasses() {
        return new LastDigitRule(true);
    }

    @Override
    public Outcome decide(String toNumber) {
        return switch (lastDigit(toNumber)) {
            case '0' -> Outcome.BUSY;
            case '1' -> Outcome.NO_ANSWER;
            case '2' -> Outcome.FAILED;
            case '3' -> capacity(toNumber);
            default -> Outcome.ANSWERED;
        };
    }

    /** Refused, unless the limit passes and this number's last dial was the refused one. */
    private Outcome capacity(String toNumber) {
        if (!capacityPasses || refused.add(toNumber)) {
            return Outcome.CAPACITY_REJECTED;
        }
        refused.remove(toNumber);
        return Outcome.ANSWERED;
    }

    private static char lastDigit(String toNumber) {
        if (toNumber != null) {
            for (int i = toNumber.length() - 1; i >= 0; i--) {
                char c = toNumber.charAt(i);
                if (c >= '0' && c <= '9') {
                    return c;
                }
            }
        }
        return ' ';
    }

    @Override
    public String toString() {
        return capacityPasses ? "OutcomeRule.lastDigitCapacityPasses()" : "OutcomeRule.lastDigit()";
    }
}
