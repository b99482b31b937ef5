package dev.dialer.dispatcher.carrier;

import dev.dialer.common.contract.CallCommand;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The body of a Voice Gateway {@code POST /v1/Accounts/{sid}/Calls} for a command.
 *
 * <ul>
 *   <li>{@code from} and {@code to.number} are the E.164 numbers without the leading '+', the form jambonz and its
 *       carriers expect for phone numbers;</li>
 *   <li>{@code application_sid} is the command's {@code flow_id}, or the configured audio player for a command with
 *       {@code audio};</li>
 *   <li>{@code tag} (echoed back as {@code customerData} on every callback) carries the correlation ids
 *       {@code request_id}, {@code attempt}, {@code account_id}, {@code caller_id}, the {@code flow_id} / {@code audio}
 *       and the command's {@code variables} (the flow needs them; they never reach an event);</li>
 *   <li>the command's {@code carrier_options} are merged over the defaults and win, except: the correlation ids in
 *       {@code tag} are always ours, {@code call_status_hook} always points at this dispatcher (otherwise no status
 *       would ever arrive), and {@code to} / {@code from} always are the command's own validated numbers (events
 *       report them). A {@code trunk} option becomes {@code to.trunk}.</li>
 * </ul>
 */
final class CreateCallBody {

    private static final Set<String> OURS = Set.of("from", "to", "call_status_hook", "tag", "trunk");

    private CreateCallBody() {
    }

    static Map<String, Object> of(CallCommand command, CarrierProperties properties, String statusHookUrl) {
        Map<String, Object> options = command.carrierOptions();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("from", digits(command.callerId()));
        body.put("to", target(command, options.get("trunk")));
        body.put("application_sid", command.flowId() != null ? command.flowId() : properties.defaultApplicationSid());
        body.put("call_status_hook", Map.of("url", statusHookUrl, "method", "POST"));
        body.put("timeout", properties.ringTimeout().toSeconds());
        body.put("timeLimit", properties.timeLimit().toSeconds());
        options.forEach((name, value) -> {
            if (!OURS.contains(name)) {
                body.put(name, value);
            }
        });
        body.put("tag", tag(command, options.get("tag")));
        return body;
    }

    private static Map<String, Object> target(CallCommand command, Object trunk) {
        Map<String, Object> to = new LinkedHashMap<>();
        to.put("type", "phone");
        to.put("number", digits(command.to()));
        if (trunk instanceof String name && !name.isBlank()) {
            to.put("trunk", name);
        }
        return to;
    }

    private static Map<String, Object> tag(CallCommand command, Object theirs) {
        Map<String, Object> tag = new LinkedHashMap<>();
        if (theirs instanceof Map<?, ?> given) {
            given.forEach((name, value) -> tag.put(String.valueOf(name), value));
        }
        if (!command.variables().isEmpty()) {
            tag.put("variables", command.variables());
        }
        putIfPresent(tag, "flow_id", command.flowId());
        putIfPresent(tag, "audio", command.audio());
        tag.put("request_id", command.requestId());
        tag.put("attempt", command.attempt());
        tag.put("account_id", command.accountId());
        tag.put("caller_id", command.callerId());
        return tag;
    }

    private static void putIfPresent(Map<String, Object> map, String name, String value) {
        if (value != null) {
            map.put(name, value);
        }
    }

    /** E.164 without the '+': "+4930123456" becomes "4930123456". */
    static String digits(String e164) {
        return e164.startsWith("+") ? e164.substring(1) : e164;
    }
}
