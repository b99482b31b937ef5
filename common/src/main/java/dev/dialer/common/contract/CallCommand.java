package dev.dialer.common.contract;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A request to call one recipient: the value of a {@code dialer.call.commands} record, keyed by
 * {@link #callerId()} so that one caller ID lives on one partition. Upstream systems may produce it
 * directly; its JSON Schema is {@code schemas/call-command.v1.json}.
 *
 * @param version         contract version, {@value #VERSION}
 * @param requestId       the call's id, unique per request (the {@code id} the API answered)
 * @param accountId       the owning account
 * @param callerId        caller ID in E.164 ({@code bridge} / {@code from})
 * @param to              callee: E.164, a {@code sip:}/{@code sips:} URI or {@code user:<name>} ({@link Destination})
 * @param flowId          IVR flow to run on answer (or {@code application_sid}); this or {@code audio}
 * @param audio           sound-file id or http(s) URL to play on answer
 * @param campaign        campaign name ({@code name} in the send API)
 * @param intervalMinutes retry interval: 0 (no retry), 5, 15, 30, 45 or 60
 * @param maxAttempts     attempts allowed when {@code intervalMinutes > 0}
 * @param attempt         which attempt this record asks for, 1 for a fresh request
 * @param webhookId       webhook to notify of this call's events
 * @param foreignId       the client's own reference
 * @param variables       values for the flow; never copied into events (they can hold one-time passwords)
 * @param validUntil      after this instant the call is not placed ({@code expired})
 * @param priority        higher first within a caller ID's lane (0 by default)
 * @param notifyUrl       Voice Gateway dialect: status events go here too
 * @param actionHook      Voice Gateway dialect: the final outcome goes here too
 * @param amdHook         Voice Gateway dialect: the request's {@code amd.actionHook}, where each answering-machine
 *                        detection goes too; the carrier is given the dispatcher's own hook in its place
 * @param carrierOptions  Voice Gateway dialect fields carried to the carrier as given
 *                        ({@code timeout}, {@code timeLimit}, {@code tag}, {@code headers}, {@code amd}, …)
 * @param createdAt       when the request was accepted
 */
public record CallCommand(
        int version,
        String requestId,
        String accountId,
        String callerId,
        String to,
        String flowId,
        String audio,
        String campaign,
        int intervalMinutes,
        int maxAttempts,
        int attempt,
        String webhookId,
        String foreignId,
        Map<String, String> variables,
        Instant validUntil,
        Integer priority,
        Hook notifyUrl,
        Hook actionHook,
        Hook amdHook,
        Map<String, Object> carrierOptions,
        Instant createdAt) {

    public static final int VERSION = 1;
    public static final Set<Integer> INTERVALS = Set.of(0, 5, 15, 30, 45, 60);
    public static final int DEFAULT_MAX_ATTEMPTS = 3;
    /**
     * How {@link #applications()} names an application its carrier options choose other than by a string sid: it
     * starts with a NUL character, which api-service refuses in any settings, so that no {@code allowed_flow_ids}
     * holds it.
     */
    public static final String OTHER_APPLICATION = "\0carrier-options-application";
    /**
     * The carrier options with which a create-call names an application of the request's own, which jambonz runs
     * where no application sid is given: each is {@link #OTHER_APPLICATION} among {@link #applications()}.
     */
    public static final List<String> OWN_APPLICATION_OPTIONS = List.of("call_hook", "app_json");

    public CallCommand {
        attempt = attempt <= 0 ? 1 : attempt;
        maxAttempts = maxAttempts <= 0 ? DEFAULT_MAX_ATTEMPTS : maxAttempts;
        variables = variables == null ? Map.of() : Map.copyOf(variables);
        carrierOptions = carrierOptions == null ? Map.of() : carrierOptions;
    }

    /** A request without an answering-machine hook of its own, as every request but a Voice Gateway one is. */
    public CallCommand(int version, String requestId, String accountId, String callerId, String to, String flowId,
                       String audio, String campaign, int intervalMinutes, int maxAttempts, int attempt,
                       String webhookId, String foreignId, Map<String, String> variables, Instant validUntil,
                       Integer priority, Hook notifyUrl, Hook actionHook, Map<String, Object> carrierOptions,
                       Instant createdAt) {
        this(version, requestId, accountId, callerId, to, flowId, audio, campaign, intervalMinutes, maxAttempts,
                attempt, webhookId, foreignId, variables, validUntil, priority, notifyUrl, actionHook, null,
                carrierOptions, createdAt);
    }

    /** Attempts this request may use: one when it has no retry interval. */
    public int allowedAttempts() {
        return intervalMinutes == 0 ? 1 : maxAttempts;
    }

    /**
     * Every application the call could run at a carrier, each as {@code allowed_flow_ids} would name it: its
     * {@code flow_id} (what a SIP trunk is told, and the Voice Gateway's application unless overridden); a
     * {@code carrier_options.application_sid} (the Voice Gateway is sent it over {@code flow_id}), as given when it
     * is a string, else as {@link #OTHER_APPLICATION}; and {@link #OTHER_APPLICATION} for a
     * {@code carrier_options.call_hook} or {@code app_json}, applications of the client's own that jambonz runs where
     * no application sid is given (a blank one included). Empty when the call plays its audio through the dialer's
     * own player.
     */
    public List<String> applications() {
        List<String> named = new ArrayList<>(2);
        if (flowId != null) {
            named.add(flowId);
        }
        Object sid = carrierOptions.get("application_sid");
        if (sid != null) {
            named.add(sid instanceof String given && !given.isBlank() ? given : OTHER_APPLICATION);
        }
        if (OWN_APPLICATION_OPTIONS.stream().anyMatch(option -> carrierOptions.get(option) != null)) {
            named.add(OTHER_APPLICATION);
        }
        return named;
    }

    /** The same request, asking for another attempt. */
    public CallCommand withAttempt(int number) {
        return new CallCommand(version, requestId, accountId, callerId, to, flowId, audio, campaign, intervalMinutes,
                maxAttempts, number, webhookId, foreignId, variables, validUntil, priority, notifyUrl, actionHook,
                amdHook, carrierOptions, createdAt);
    }

    /** The same request, to the callee written as {@code callee}. */
    public CallCommand withTo(String callee) {
        return new CallCommand(version, requestId, accountId, callerId, callee, flowId, audio, campaign,
                intervalMinutes, maxAttempts, attempt, webhookId, foreignId, variables, validUntil, priority, notifyUrl,
                actionHook, amdHook, carrierOptions, createdAt);
    }

    /** The same request, from the caller ID written as {@code caller}. */
    public CallCommand withCallerId(String caller) {
        return new CallCommand(version, requestId, accountId, caller, to, flowId, audio, campaign, intervalMinutes,
                maxAttempts, attempt, webhookId, foreignId, variables, validUntil, priority, notifyUrl, actionHook,
                amdHook, carrierOptions, createdAt);
    }

    /** The same request, with {@code options} for the carrier. */
    public CallCommand withCarrierOptions(Map<String, Object> options) {
        return new CallCommand(version, requestId, accountId, callerId, to, flowId, audio, campaign, intervalMinutes,
                maxAttempts, attempt, webhookId, foreignId, variables, validUntil, priority, notifyUrl, actionHook,
                amdHook, options, createdAt);
    }

    /** Whether {@code valid_until} has passed at {@code at}: the call may not be placed then. */
    public boolean expiredAt(Instant at) {
        return validUntil != null && !at.isBefore(validUntil);
    }

    /** The earlier of {@code at} and {@code valid_until}: a wait that ends by the request's end at the latest. */
    public Instant byValidUntil(Instant at) {
        return validUntil != null && validUntil.isBefore(at) ? validUntil : at;
    }
}
