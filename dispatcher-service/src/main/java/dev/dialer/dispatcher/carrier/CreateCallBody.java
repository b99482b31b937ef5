package dev.dialer.dispatcher.carrier;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CarrierOptions;
import dev.dialer.common.contract.Destination;
import dev.dialer.dispatcher.callback.AnsweredBy;
import dev.dialer.dispatcher.callback.StatusHookUrl;
import dev.dialer.dispatcher.callback.TagSeal;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The body of a Voice Gateway {@code POST /v1/Accounts/{sid}/Calls} for a command.
 *
 * <ul>
 *   <li>{@code from} and {@code to.number} are the E.164 numbers without the leading '+', the form jambonz and its
 *       carriers expect for phone numbers; a command to a SIP URI or a registered user ({@code user:<name>}) sends
 *       jambonz's {@code {type: sip, sipUri, auth?}} or {@code {type: user, name}} target instead, with the other
 *       fields of the target the client gave ({@code carrier_options.to});</li>
 *   <li>{@code application_sid} is the command's {@code flow_id}, or the configured audio player for a command with
 *       {@code audio}, unless its {@code carrier_options} give one (the dial-time policy checks every application a
 *       command could run against the account's {@code allowed_flow_ids}: {@code CallCommand#applications});</li>
 *   <li>{@code tag} (echoed back as {@code customerData} on every callback) carries the correlation ids
 *       {@code request_id}, {@code attempt}, {@code account_id}, {@code caller_id}, the {@code flow_id} / {@code audio}
 *       and the command's {@code variables} (the flow needs them; they never reach an event);</li>
 *   <li>the command's {@code carrier_options} are merged over the defaults and win, except: the correlation ids in
 *       {@code tag} are always ours, {@code call_status_hook} always points at this dispatcher, and {@code to} /
 *       {@code from} always are the command's own validated numbers (events report them). A {@code trunk} option
 *       becomes {@code to.trunk}. {@code timeout} and {@code timeLimit} go as the dialer reads them for its trunk
 *       slots and its watchdog ({@code CarrierOptions.seconds}: whole seconds, at most a day): a value it does not
 *       take (not a number above 0) leaves the default in place, one above a day is sent as a day.</li>
 *   <li>jambonz puts the application's {@code call_status_hook} in place of the request's whenever it names an
 *       {@code application_sid}, which it always does here: the request's hook reaches this dispatcher only through a
 *       carrier that honours it. With {@code notify-url} (a Cognigy Voice Gateway) the status hook also goes as
 *       {@code notifyUrl}, which such a gateway posts every status to besides the application's hook; a
 *       {@code notifyUrl} the command gave is then replaced. Without it, the application's own Call Status Webhook
 *       must be this dispatcher's ({@link ApplicationStatusHooks} checks it).</li>
 *   <li>an {@code amd} option (answering-machine detection) is sent with its {@code actionHook} pointing at this
 *       dispatcher's answering-machine endpoint, whatever the command gave: the result reaches the customer as
 *       {@code answered_by} in the call's events. The command on record keeps its own hook untouched.</li>
 *   <li>the tag also names the carrier's route ({@code carrier}) and when the request was sent ({@code sent_at},
 *       epoch milliseconds), so a callback can say how late it is ({@code dialer.dispatcher.carrier.callback.lag}),
 *       and which dial of the attempt it is ({@code dial}: 1, then one more each time the attempt is dialled again
 *       after the carrier took no call), so a late callback of an earlier dial never acts on the current one.
 *   </li>
 * </ul>
 */
final class CreateCallBody {

    private static final Set<String> OURS = Set.of("from", "to", "call_status_hook", "tag", "trunk", "amd", "timeout",
            "timeLimit");

    /**
     * What the request says about who sends it.
     *
     * @param statusHookUrl this dispatcher's status hook
     * @param carrier       the carrier's route name
     * @param sentAt        when the request is sent
     * @param dial          which dial of the attempt this is ({@code AttemptLedger#claimDial}): 1, or more when the
     *                      attempt is dialled again after the carrier took no call
     * @param seal          what seals the tag ({@link TagSeal#NONE}: nothing)
     */
    record Sender(String statusHookUrl, String carrier, Instant sentAt, int dial, TagSeal seal) {
    }

    private CreateCallBody() {
    }

    static Map<String, Object> of(CallCommand command, CarrierProperties properties, Sender sender) {
        String statusHookUrl = sender.statusHookUrl();
        Map<String, Object> options = command.carrierOptions();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("from", digits(command.callerId()));
        body.put("to", target(command, options.get("trunk"), options.get("to")));
        body.put("application_sid", command.flowId() != null ? command.flowId() : properties.defaultApplicationSid());
        body.put("call_status_hook", Map.of("url", statusHookUrl, "method", "POST"));
        // As the dialer reads them (its trunk slots, its watchdog): a value it does not take is not sent either, so
        // the carrier never lets a call ring or talk longer than the dialer counts on.
        body.put("timeout", seconds(options, "timeout", properties.ringTimeout()));
        body.put("timeLimit", seconds(options, "timeLimit", properties.timeLimit()));
        options.forEach((name, value) -> {
            // A null option is an option not given (a producer writing every field of its model): sent as null it
            // would take the default's place, e.g. timeLimit null leaving the call without a limit at the carrier.
            if (!OURS.contains(name) && value != null) {
                body.put(name, value);
            }
        });
        if (properties.notifyUrl()) {
            body.put("notifyUrl", Map.of("url", statusHookUrl, "method", "POST"));
        }
        AnsweredBy.detection(command).ifPresent(amd -> body.put("amd", answeringMachine(amd, statusHookUrl)));
        Map<String, Object> tag = tag(command, options.get("tag"));
        tag.put("carrier", sender.carrier());
        tag.put("sent_at", sender.sentAt().toEpochMilli());
        tag.put("dial", sender.dial());
        String seal = sender.seal().seal(command.requestId(), command.attempt(), sender.dial(), sender.carrier(),
                command.callerId());
        if (seal != null) {
            tag.put(TagSeal.FIELD, seal);
        }
        body.put("tag", tag);
        return body;
    }

    /** The option as the dialer reads it ({@link CarrierOptions#seconds}), else the default. */
    private static long seconds(Map<String, Object> options, String option, Duration fallback) {
        Long seconds = CarrierOptions.seconds(options, option);
        return seconds != null ? seconds : fallback.toSeconds();
    }

    /** The command's {@code amd} settings, with our answering-machine endpoint as their {@code actionHook}. */
    private static Map<String, Object> answeringMachine(Map<?, ?> given, String statusHookUrl) {
        Map<String, Object> amd = new LinkedHashMap<>();
        given.forEach((name, value) -> amd.put(String.valueOf(name), value));
        amd.put("actionHook", Map.of("url", StatusHookUrl.answeringMachine(statusHookUrl), "method", "POST"));
        return amd;
    }

    /**
     * jambonz's target: {@code {type: phone, number, trunk?}} for a number; for a SIP URI {@code {type: sip, sipUri}}
     * and for {@code user:<name>} {@code {type: user, name}}, each with the rest of the target the client gave
     * ({@code carrier_options.to}: {@code auth}, …). The address itself is always the command's, and so is a phone
     * target's type.
     */
    private static Map<String, Object> target(CallCommand command, Object trunk, Object given) {
        Map<String, Object> to = new LinkedHashMap<>();
        switch (Destination.kindOf(command.to())) {
            case SIP -> {
                to.put("type", "sip");
                to.put("sipUri", command.to());
                rest(to, given);
            }
            case USER -> {
                to.put("type", "user");
                to.put("name", Destination.userName(command.to()));
                rest(to, given);
            }
            default -> {
                to.put("type", "phone");
                to.put("number", digits(command.to()));
                rest(to, given);
            }
        }
        if (trunk instanceof String name && !name.isBlank()) {
            to.put("trunk", name);
        }
        return to;
    }

    /** The given target's other fields; never its type or address, which the command's {@code to} decides. */
    private static void rest(Map<String, Object> to, Object given) {
        if (given instanceof Map<?, ?> fields) {
            fields.forEach((name, value) -> to.putIfAbsent(String.valueOf(name), value));
        }
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
