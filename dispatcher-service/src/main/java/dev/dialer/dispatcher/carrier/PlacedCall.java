package dev.dialer.dispatcher.carrier;

/**
 * A call the carrier accepted.
 *
 * @param sid    the carrier's id of the call (jambonz {@code sid}, later {@code call_sid} in callbacks)
 * @param callId the SIP Call-ID, when the carrier reports it
 */
public record PlacedCall(String sid, String callId) {
}
