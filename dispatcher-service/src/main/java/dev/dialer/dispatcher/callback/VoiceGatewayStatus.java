package dev.dialer.dispatcher.callback;

import dev.dialer.common.contract.AttemptStatus;
import java.util.Optional;

/** jambonz {@code call_status} values in the dialer's attempt vocabulary. */
public final class VoiceGatewayStatus {

    private VoiceGatewayStatus() {
    }

    /**
     * {@code trying} → initiated, {@code ringing} and {@code early-media} → ringing, {@code in-progress},
     * {@code completed}, {@code busy}, {@code no-answer} and {@code failed} as they are.
     *
     * @return empty for a status jambonz does not document
     */
    public static Optional<AttemptStatus> toAttemptStatus(String callStatus) {
        if (callStatus == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(switch (callStatus) {
            case "trying" -> AttemptStatus.INITIATED;
            case "ringing", "early-media" -> AttemptStatus.RINGING;
            case "in-progress" -> AttemptStatus.IN_PROGRESS;
            case "completed" -> AttemptStatus.COMPLETED;
            case "busy" -> AttemptStatus.BUSY;
            case "no-answer" -> AttemptStatus.NO_ANSWER;
            case "failed" -> AttemptStatus.FAILED;
            default -> null;
        });
    }
}
