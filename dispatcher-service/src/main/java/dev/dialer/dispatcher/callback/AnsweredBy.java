package dev.dialer.dispatcher.callback;

import dev.dialer.common.contract.CallCommand;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code answered_by} vocabulary of call events, from jambonz's answering-machine events (posted to
 * {@code amd.actionHook}). Stable: receivers may switch on it.
 *
 * <ul>
 *   <li>{@code human} ← {@code amd_human_detected} (a short greeting);</li>
 *   <li>{@code machine} ← {@code amd_machine_detected} (a long greeting or a known voicemail phrase);</li>
 *   <li>{@code no_speech} ← {@code amd_no_speech_detected} (silence after the answer);</li>
 *   <li>{@code decision_timeout} ← {@code amd_decision_timeout} (speech, but no decision in time);</li>
 *   <li>{@code tone} ← {@code amd_tone_detected} (a voicemail beep: the machine is now recording).</li>
 * </ul>
 * Other events ({@code amd_machine_stopped_speaking}, {@code amd_stopped}, {@code amd_error}, …) decide nothing and
 * are only counted.
 */
public final class AnsweredBy {

    /** The prefix every jambonz answering-machine event type starts with. */
    static final String EVENT_PREFIX = "amd_";

    public static final String HUMAN = "human";
    public static final String MACHINE = "machine";
    public static final String NO_SPEECH = "no_speech";
    public static final String DECISION_TIMEOUT = "decision_timeout";
    public static final String TONE = "tone";

    /** Every value, for metrics registered up front. */
    static final List<String> VALUES = List.of(HUMAN, MACHINE, NO_SPEECH, DECISION_TIMEOUT, TONE);

    private AnsweredBy() {
    }

    /**
     * The command's answering-machine detection settings (its {@code amd} option), which the create call request
     * carries; empty when it asks for none. Only when it asks can a result arrive, and a call be {@code answered_by}
     * anyone.
     */
    public static Optional<Map<?, ?>> detection(CallCommand command) {
        return command.carrierOptions().get("amd") instanceof Map<?, ?> amd ? Optional.of(amd) : Optional.empty();
    }

    /** Whether the command asks for answering-machine detection ({@link #detection}). */
    static boolean askedFor(CallCommand command) {
        return detection(command).isPresent();
    }

    /** The {@code answered_by} value a jambonz event type stands for; empty for an event that decides nothing. */
    static Optional<String> of(String amdType) {
        if (amdType == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(switch (amdType) {
            case "amd_human_detected" -> HUMAN;
            case "amd_machine_detected" -> MACHINE;
            case "amd_no_speech_detected" -> NO_SPEECH;
            case "amd_decision_timeout" -> DECISION_TIMEOUT;
            case "amd_tone_detected" -> TONE;
            default -> null;
        });
    }
}
