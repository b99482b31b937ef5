package dev.dialer.dispatcher.attempt;

/**
 * Where a request stood when one of its commands arrived.
 *
 * @param finalStatus     its final status, if it has ended
 * @param attemptRecorded whether the command's attempt was recorded before (the command is a redelivery, or it comes
 *                        back for an attempt that waited)
 * @param attemptWaiting  whether that attempt is waiting to be dialled again under its number (requeued after a
 *                        capacity rejection or because no carrier placed it): the command that comes back for it
 *                        meets the dial-time policy again, as any command after a wait does
 * @param attemptUnclaimed whether that attempt was recorded but never claimed for dialling (its dispatcher stopped
 *                         between the two): the redelivered command meets the dial-time policy, which may have changed
 *                         its answer since (a DNC entry, the calling window's end, {@code valid_until})
 */
public record RequestState(String finalStatus, boolean attemptRecorded, boolean attemptWaiting,
                           boolean attemptUnclaimed) {

    /** Whether the command must meet the dial-time policy before it is recorded and claimed. */
    public boolean meetsPolicy() {
        return !attemptRecorded || attemptWaiting || attemptUnclaimed;
    }
}
