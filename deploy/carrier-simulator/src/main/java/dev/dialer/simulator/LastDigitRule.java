package dev.dialer.simulator;

/** See {@link OutcomeRule#lastDigit()}. */
final class LastDigitRule implements OutcomeRule {

    static final LastDigitRule INSTANCE = new LastDigitRule();

    private LastDigitRule() {
    }

    @Override
    public Outcome decide(String toNumber) {
        return switch (lastDigit(toNumber)) {
            case '0' -> Outcome.BUSY;
            case '1' -> Outcome.NO_ANSWER;
            case '2' -> Outcome.FAILED;
            case '3' -> Outcome.CAPACITY_REJECTED;
            default -> Outcome.ANSWERED;
        };
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
        return "OutcomeRule.lastDigit()";
    }
}
