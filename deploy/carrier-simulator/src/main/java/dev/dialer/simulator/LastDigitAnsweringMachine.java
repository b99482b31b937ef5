package dev.dialer.simulator;

/** See {@link AnsweringMachineRule#lastDigit()}. */
final class LastDigitAnsweringMachine implements AnsweringMachineRule {

    static final LastDigitAnsweringMachine INSTANCE = new LastDigitAnsweringMachine();

    private LastDigitAnsweringMachine() {
    }

    @Override
    public String decide(String toNumber) {
        return toNumber != null && toNumber.endsWith("9") ? MACHINE : HUMAN;
    }

    @Override
    public String toString() {
        return "AnsweringMachineRule.lastDigit()";
    }
}
