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
 */
public record RequestState(String finalStatus, boolean attemptRecorded, boolean attemptWaiting) {
}
