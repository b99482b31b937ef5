package dev.dialer.simulator;

import java.util.Map;

/**
 * A create-call request the simulator accepted, as it arrived.
 *
 * @param callSid        the {@code sid} answered to the client
 * @param callId         the SIP Call-ID answered as {@code callId}
 * @param accountSid     the account from the request path
 * @param from           the request's {@code from}
 * @param toNumber       the dialled address: {@code to.number}, else {@code to.sipUri}, else {@code to.name}
 * @param toType         {@code to.type} ({@code phone}, {@code sip}, {@code user}, {@code teams})
 * @param trunk          {@code to.trunk}, or {@code null}
 * @param applicationSid the request's {@code application_sid}, or {@code null} when a {@code call_hook} was given
 * @param statusHookUrl  the request's own {@code call_status_hook} URL, or {@code null} when none was given (an
 *                       application the simulator has posts the statuses to its own hook instead)
 * @param tag            the request's {@code tag} (echoed as {@code customerData}); empty when none was given
 * @param body           the whole request JSON
 */
public record ReceivedCall(String callSid, String callId, String accountSid, String from, String toNumber,
                           String toType, String trunk, String applicationSid, String statusHookUrl,
                           Map<String, Object> tag, Map<String, Object> body) {
}
