package dev.dialer.simulator;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Decides who answers a call that asked for answering-machine detection ({@code amd}), as the jambonz event type the
 * simulator then posts to the request's {@code amd.actionHook}: {@value #HUMAN} or {@value #MACHINE}.
 */
@FunctionalInterface
public interface AnsweringMachineRule {

    String HUMAN = "amd_human_detected";
    String MACHINE = "amd_machine_detected";

    /**
     * @param toNumber the dialled address; may be {@code null}
     * @return the event type, never {@code null}
     */
    String decide(String toNumber);

    /**
     * The default rule: a number whose last digit is {@code 9} reaches a machine (and is answered, see
     * {@link OutcomeRule#lastDigit()}); every other number a human.
     */
    static AnsweringMachineRule lastDigit() {
        return LastDigitAnsweringMachine.INSTANCE;
    }

    /** A machine answers this share (0 to 1) of the calls, at random, whatever the number. */
    static AnsweringMachineRule machineShare(double share) {
        if (!(share >= 0 && share <= 1)) {
            throw new IllegalArgumentException("machine share must be within 0..1, was " + share);
        }
        return toNumber -> ThreadLocalRandom.current().nextDouble() < share ? MACHINE : HUMAN;
    }
}
