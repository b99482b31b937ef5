package dev.dialer.dispatcher.attempt;

/**
 * Where a request stood when one of its commands arrived.
 *
 * @param finalStatus     its final status, if it has ended
 * @param attemptRecorded whether the command's attempt was recorded before (the command is a redelivery)
 */
public record RequestState(String finalStatus, boolean attemptRecorded) {
}
