package dev.dialer.api.voicegateway;

import dev.dialer.api.RequestBodies;
import dev.dialer.api.account.Account;
import dev.dialer.api.account.ApiKeys;
import dev.dialer.api.calls.AcceptedCalls;
import dev.dialer.api.calls.CallLedger;
import dev.dialer.api.calls.UnrecordedCalls;
import dev.dialer.api.idempotency.IdempotencyKey;
import dev.dialer.api.idempotency.IdempotentRequests;
import dev.dialer.api.ids.TimeOrderedUuids;
import dev.dialer.api.settings.AccountSettingsLookup;
import dev.dialer.api.settings.AccountSettingsStore;
import dev.dialer.common.contract.AccountSettings;
import dev.dialer.api.kafka.AcknowledgedPublisher;
import dev.dialer.api.problem.JsonMembers;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CarrierOptions;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.hook.PlainHttpPolicy;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import dev.dialer.api.openapi.ApiDocs;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.enums.ParameterIn;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.ExampleObject;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Voice Gateway dialect, {@code POST /v1/Accounts/{account_sid}/Calls}: one call per request, answered
 * {@code 201 {sid, callId, callid}} once Kafka acknowledged the command (acks=all). {@code sid} is the dialer's call id (the
 * one its events carry); {@code callId} is the same value, since the carrier's SIP Call-ID exists only once the call
 * is dialled. The account sid in the path must be the authenticated account's: another account's is a 404. It
 * honours {@code Idempotency-Key} as the send endpoint does ({@link IdempotentRequests}: the same store, replay and
 * conflict), so a retry after an ambiguous 503 cannot create a second call.
 */
@RestController
@Tag(name = "voice-gateway")
class VoiceGatewayCallsController {

    private static final int MAX_BODY_BYTES = 64 * 1024;
    /**
     * Nesting allowed in a body: its free-form members ({@code tag}, {@code amd}, …) travel on inside the call's
     * command and the carrier's request.
     */
    static final int MAX_DEPTH = 64;
    private static final JsonMapper JSON = JsonMembers.mapper(MAX_DEPTH);
    /**
     * Prefixes the body in the key's fingerprint, so that a key used on the send endpoint is a conflict here, never a
     * replay of the other endpoint's answer.
     */
    private static final String FINGERPRINT = "POST /v1/Accounts/{account_sid}/Calls\n";

    private final AcknowledgedPublisher publisher;
    private final AccountSettingsLookup settings;
    private final AcceptedCalls ledger;
    private final IdempotentRequests idempotency;
    private final Counter accepted;
    private final Counter produced;
    private final Counter forbiddenCallerIds;
    private final Counter forbiddenFlows;
    private final UnrecordedCalls unrecorded;
    private final PlainHttpPolicy plainHttp;

    VoiceGatewayCallsController(AcknowledgedPublisher publisher, AccountSettingsLookup settings, AcceptedCalls ledger,
                                IdempotentRequests idempotency, PlainHttpPolicy plainHttp, MeterRegistry registry) {
        this.idempotency = idempotency;
        this.plainHttp = plainHttp;
        this.publisher = publisher;
        this.settings = settings;
        this.ledger = ledger;
        this.forbiddenCallerIds = Counter.builder("dialer.api.caller_id.forbidden")
                .description("Send requests refused because the caller ID is not allowed for the account")
                .tag("dialect", "voice-gateway").register(registry);
        this.forbiddenFlows = Counter.builder("dialer.api.flow.forbidden")
                .description("Send requests refused because the flow is not allowed for the account")
                .tag("dialect", "voice-gateway").register(registry);
        this.accepted = Counter.builder("dialer.api.recipients.accepted")
                .description("Recipients queued as call commands").register(registry);
        this.produced = Counter.builder("dialer.api.commands.produced")
                .description("Call commands acknowledged by Kafka").register(registry);
        this.unrecorded = new UnrecordedCalls(registry);
    }

    @PostMapping(path = "/v1/Accounts/{accountSid}/Calls", produces = MediaType.APPLICATION_JSON_VALUE)
    @Operation(operationId = "createCall", summary = "Queue one call (Voice Gateway dialect)",
            description = "The Voice Gateway (jambonz) create-call request. `notifyUrl` receives every event of the "
                    + "call, `actionHook` its final outcome, `amd.actionHook` each answering-machine detection (the "
                    + "`call.status` event carrying `answered_by`); `timeout` (60 by default), `timeLimit`, `tag`, "
                    + "`headers`, `amd`, `callerName`, `fromHost`, `to.trunk` and `speech_synthesis_*` travel to "
                    + "the carrier as given; a value the dispatcher could not pass on (a `tag` or `amd` that is not "
                    + "an object, a reserved `tag` key, a header the SIP side refuses, a `to.trunk` that is not a "
                    + "name, a `callerName` over 128 characters or holding a control character, `\"` or `\\`, a "
                    + "`fromHost` that is no host name or IP address, a `confirmHook`, `dtmfHook` or `referHook` that "
                    + "is no http(s) or ws(s) URL or `{url, method}`, a `dtmfCapture` that is no array of DTMF "
                    + "sequences, a `speech_synthesis_*` that is no string, a `listen` or `transcribe` that is no "
                    + "object) is a 400 naming it. `to` is a `phone` number, a "
                    + "`sip` URI or a registered `user`: a sip or user target has no time zone, so its calling window "
                    + "is applied in the caller ID's own "
                    + "zones when it is a number of the account's default region (or the account names none), else "
                    + "in the default region's. The DNC list holds phone numbers only, so it never blocks a sip or "
                    + "user target; the per-callee cap matches it as written. "
                    + "Answers once Kafka has the command.",
            parameters = @Parameter(name = IdempotentRequests.HEADER, in = ParameterIn.HEADER, description = "Makes "
                    + "retries safe for 24 hours, as on the send endpoint: a repeat with the same body answers the "
                    + "original 201 with `Idempotent-Replayed: true` and queues nothing; the same key with another "
                    + "body (or used on another endpoint) is a 409. A request refused with a 4xx is not stored, "
                    + "unless an earlier try under the key is in doubt (it got a 503, or is still running: the "
                    + "problem says `earlier_try_in_doubt: true`), when only that try's own body may be sent again "
                    + "under it",
                    schema = @Schema(type = "string", maxLength = IdempotentRequests.MAX_KEY_LENGTH)),
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true, content = @Content(
                    mediaType = MediaType.APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = VoiceGatewayDocs.Call.class),
                    examples = {
                            @ExampleObject(name = "basic", summary = "The API document's request",
                                    value = ApiDocs.VOICE_GATEWAY_CALL),
                            @ExampleObject(name = "with-hooks", summary = "With hooks and carrier options",
                                    value = ApiDocs.VOICE_GATEWAY_CALL_WITH_HOOKS),
                            @ExampleObject(name = "sip", summary = "To a SIP URI, with credentials",
                                    value = VoiceGatewayDocs.SIP_CALL),
                            @ExampleObject(name = "user", summary = "To a user registered with the gateway",
                                    value = VoiceGatewayDocs.USER_CALL)})))
    @ApiResponse(responseCode = "201", description = "Queued: `sid` is the call id its events carry",
            content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = VoiceGatewayDocs.Created.class),
                    examples = @ExampleObject(name = "created",
                    value = ApiDocs.VOICE_GATEWAY_RESPONSE)))
    @ApiResponse(responseCode = "400", ref = ApiDocs.BAD_REQUEST)
    @ApiResponse(responseCode = "403", ref = ApiDocs.FORBIDDEN)
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    @ApiResponse(responseCode = "409", ref = ApiDocs.CONFLICT)
    @ApiResponse(responseCode = "413", description = "The body is larger than 64 KB (" + MAX_BODY_BYTES + " bytes)",
            content = @Content(mediaType = ApiDocs.PROBLEM_JSON, schema = @Schema(ref = ApiDocs.PROBLEM),
                    examples = @ExampleObject(name = "payload-too-large",
                            value = ApiDocs.TOO_LARGE_EXAMPLE + MAX_BODY_BYTES + ApiDocs.BYTES)))
    @ApiResponse(responseCode = "503", ref = ApiDocs.UNAVAILABLE)
    Mono<ResponseEntity<byte[]>> create(
            @Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account,
            @Parameter(description = "The account's id (its sid)", example = "demo") @PathVariable String accountSid,
            ServerHttpRequest request) {
        if (!account.id().equals(accountSid)) {
            return Mono.error(Problems.notFound("account " + accountSid + " not found"));
        }
        String key = IdempotentRequests.keyOf(request);
        return settings.of(account.id())
                .zipWith(RequestBodies.text(request, MAX_BODY_BYTES))
                .flatMap(found -> key == null
                        ? create(account, found.getT1(), found.getT2(), null)
                                .map(created -> ResponseEntity.status(HttpStatus.CREATED)
                                        .contentType(MediaType.APPLICATION_JSON).body(created))
                        : idempotency.once(account.id(), key, ApiKeys.hash(FINGERPRINT + found.getT2()),
                                HttpStatus.CREATED, claimed -> create(account, found.getT1(), found.getT2(), claimed)));
    }

    /** Validates the body and queues its call: the answer {@code {sid, callId, callid}} as JSON. */
    private Mono<byte[]> create(Account account, AccountSettings accountSettings, String body, IdempotencyKey key) {
        return Mono.fromCallable(() -> allowedCallerId(accountSettings,
                        CreateCall.from(parse(body), AccountSettingsStore.regionOf(account, accountSettings),
                                plainHttp)))
                .flatMap(call -> queue(account, call, key))
                .map(JSON::writeValueAsBytes);
    }

    private CreateCall allowedCallerId(AccountSettings accountSettings, CreateCall call) {
        if (!accountSettings.allowsCallerId(call.callerId())) {
            forbiddenCallerIds.increment();
            throw Problems.forbidden("from", "is not one of this account's allowed caller IDs");
        }
        // A trusted trunk presents a caller header's number as the caller's: held to the same list.
        for (Map.Entry<String, List<String>> header : CarrierOptions.callerHeaders(call.carrierOptions()).entrySet()) {
            if (!accountSettings.allowsAssertedCallers(header.getValue())) {
                forbiddenCallerIds.increment();
                throw Problems.forbidden("headers." + header.getKey(), "presents a caller that is not one of this "
                        + "account's allowed caller IDs");
            }
        }
        if (!accountSettings.allowsFlow(call.applicationSid())) {
            forbiddenFlows.increment();
            throw Problems.forbidden("application_sid", "is not one of this account's allowed flows");
        }
        // jambonz runs a call_hook or app_json of the request's own, which no allowed flow names (decision 0150).
        for (String own : CallCommand.OWN_APPLICATION_OPTIONS) {
            if (call.carrierOptions().get(own) != null
                    && !accountSettings.allowsFlows(List.of(CallCommand.OTHER_APPLICATION))) {
                forbiddenFlows.increment();
                throw Problems.forbidden(own, "runs an application of the request's own, and this account's calls "
                        + "may run only its allowed flows");
            }
        }
        return call;
    }

    /**
     * The call id is derived from the {@code Idempotency-Key} when there is one, so a retry after an ambiguous 503
     * reproduces it and the dispatcher dials it once; else it is time-ordered and random.
     */
    private Mono<Map<String, String>> queue(Account account, CreateCall call, IdempotencyKey key) {
        String id = key == null ? TimeOrderedUuids.v7().toString() : key.callId(account.id(), 0);
        CallCommand command = new CallCommand(CallCommand.VERSION, id, account.id(),
                call.callerId(), call.to(), call.applicationSid(), null, null, 0, CallCommand.DEFAULT_MAX_ATTEMPTS, 1,
                null, null, Map.of(), null, null, call.notifyUrl(), call.actionHook(), call.amdHook(),
                call.carrierOptions(), IdempotencyKey.acceptedAt(key));
        OutboundRecord record = OutboundRecord.of(Topics.CALL_COMMANDS, command.callerId(), Contract.toBytes(command));
        return publisher.publishSend(List.of(record), key != null, account.id())
                // Kafka has the call: the answer stays 201 and its first event adds the row.
                .then(unrecorded.tolerated(ledger.recordAcceptedShared(account.id(), List.of(new CallLedger.Accepted(
                        command.requestId(), command.callerId(), command.to(), null, null,
                        command.allowedAttempts())), command.createdAt()), account.id(), 1))
                .then(Mono.fromSupplier(() -> {
                    accepted.increment();
                    produced.increment();
                    Map<String, String> created = new LinkedHashMap<>();
                    created.put("sid", command.requestId());
                    created.put("callId", command.requestId());
                    // The current Voice Gateway document spells it callid, the v1 document callId: both are written.
                    created.put("callid", command.requestId());
                    return created;
                }));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parse(String body) {
        try {
            Object value = JSON.readValue(body, Object.class);
            if (value instanceof Map<?, ?> map) {
                return (Map<String, Object>) map;
            }
        } catch (JacksonException e) {
            // A member given twice, or a number too long to read, is a field problem naming it (to.number, tag.crm,
            // timeout), not a malformed body.
            throw JsonMembers.problem(JSON, body, e, "", Set.of(), "The body is not JSON: ");
        }
        throw Problems.malformed("The body must be a JSON object.");
    }
}
