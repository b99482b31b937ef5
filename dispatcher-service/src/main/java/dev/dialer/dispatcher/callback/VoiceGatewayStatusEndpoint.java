package dev.dialer.dispatcher.callback;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.OpenAttempts;
import dev.dialer.dispatcher.carrier.CarrierProperties;
import dev.dialer.dispatcher.carrier.routing.CarrierRoutingProperties;
import dev.dialer.dispatcher.command.KeyRouting;
import dev.dialer.dispatcher.resilience.InfraRetry;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * The Voice Gateway's hooks: the status hook ({@code call_status_hook}, {@value StatusHookUrl#PATH}) and the
 * answering-machine hook ({@code amd.actionHook}, {@value StatusHookUrl#AMD_PATH}), the only non-operational
 * endpoints of this service. Both verify {@code Jambonz-Signature} alike.
 *
 * <p>A verified callback whose tag names the caller ID goes to the dispatcher that owns the caller ID. When that is
 * this one and it dialled the call (the common case: the carrier posts to the URL of the dispatcher that placed the
 * call), it is applied here and answered once its events are in the outbox (decision 0100); if that fails or takes
 * longer than {@link #IN_PLACE_LIMIT}, or this dispatcher is not the owner, it is appended to
 * {@code dialer.carrier.callbacks} keyed by the caller ID
 * ({@link CallbackRecords}) and answered 200 once Kafka has it. A callback whose tag names no caller ID is applied
 * here. jambonz posts a call's callbacks one after another, each once the last is answered, so answering only then
 * keeps each call's callbacks in order. jambonz does not resend a refused callback; a lost status is the
 * reconciliation watchdog's to find. An answering-machine event travels the same way; its {@code type} tells the
 * consumer what it is.
 *
 * <p>The tag is ours only until the call's application replaces it (jambonz's {@code tag} verb, which a customer's
 * flow may run at any time): a callback whose tag names no attempt is the call's, found by its {@code call_sid}, the
 * {@code sid} of the create-call answer that the attempt stores ({@link AttemptLedger#attemptOfCall}), and routed and
 * applied as that attempt's, with our tag put back if it goes through the topic. One whose call no attempt knows is
 * answered 404 and counted {@code unknown_attempt}. Every Voice Gateway callback is bound to its call
 * ({@link CarrierCallback#callBound}): one whose tag names an attempt whose call is another changes nothing (decision
 * 0125). With {@code tag-keys} set, only a tag that carries its seal ({@link TagSeal}) routes a callback; one without
 * is known by its {@code call_sid} alone, and answered 403 and counted {@code seal} when no attempt knows that call: a
 * valid signature says which carrier account sent it, the seal that the tag is one a dispatcher gave that account
 * (decision 0149).
 */
@RestController
class VoiceGatewayStatusEndpoint {

    private static final Logger log = LoggerFactory.getLogger(VoiceGatewayStatusEndpoint.class);
    /**
     * How long a callback may take to be applied in place before it is appended to the topic instead: a slow
     * database must not hold the carrier's request until it gives up, since jambonz does not send a callback again.
     */
    static final Duration IN_PLACE_LIMIT = Duration.ofSeconds(5);
    /**
     * How long the attempt of a callback known by its {@code call_sid} alone is looked for through a PostgreSQL outage
     * before the callback is given up: the carrier does not send it again, so the look goes on after it stopped
     * waiting for the answer.
     */
    static final Duration LOOKUP_PATIENCE = Duration.ofMinutes(15);
    /** Callbacks that were to be applied in place and went through the topic instead, by why. */
    static final String FALLBACKS = "dialer.dispatcher.callbacks.in.place.fallbacks";
    /** Callbacks refused, by {@code reason}: {@code signature}, {@code seal}, {@code malformed}. */
    static final String REJECTED = "dialer.dispatcher.callbacks.rejected";

    private final JambonzSignature signature;
    private final TagSeal tagSeal;
    private final CallbackApplier applier;
    private final CallbackRecords callbacks;
    private final CallbackLag lag;
    private final MeterRegistry registry;
    private final boolean applyInPlace;
    private final KeyRouting keys;
    private final OpenAttempts openAttempts;
    private final AttemptLedger ledger;

    VoiceGatewayStatusEndpoint(CarrierProperties properties, CarrierRoutingProperties routing,
                               CallbackApplier applier, CallbackRecords callbacks, CallbackLag lag,
                               MeterRegistry registry, CallbackProperties callbackProperties, KeyRouting keys,
                               OpenAttempts openAttempts, AttemptLedger ledger) {
        this.ledger = ledger;
        this.applyInPlace = callbackProperties.appliesInPlace(properties.callbackUrl());
        this.keys = keys;
        this.openAttempts = openAttempts;
        this.applier = applier;
        this.callbacks = callbacks;
        this.lag = lag;
        this.registry = registry;
        for (String reason : new String[] {"timeout", "error"}) {
            registry.counter(FALLBACKS, "reason", reason);
        }
        // Registered at start: an alert's increase() counts the first refusals too (DispatcherCallbacksRejected).
        for (String reason : new String[] {"signature", "seal", "malformed"}) {
            registry.counter(REJECTED, "reason", reason);
        }
        List<String> secrets = webhookSecrets(properties, routing);
        if (secrets.isEmpty()) {
            // Acceptable on a private network with the simulator; anyone who can reach the port could forge statuses.
            log.warn("dialer.dispatcher.carrier.webhook-secret is not set: status callbacks are accepted unsigned");
            this.signature = null;
        } else {
            this.signature = new JambonzSignature(secrets, properties.signatureTolerance(), Clock.systemUTC());
        }
        this.tagSeal = TagSeal.of(properties.tagKeys());
        if (!tagSeal.enabled() && carriersSignApart(properties, routing)) {
            log.warn("the carriers sign their callbacks with different webhook secrets and "
                    + "dialer.dispatcher.carrier.tag-keys is not set: the holder of one carrier account's secret could "
                    + "write callbacks about calls placed on another's, until their call ids are known");
        }
    }

    /** Whether the configured carriers' callbacks are signed with more than one secret setting: several accounts. */
    static boolean carriersSignApart(CarrierProperties properties, CarrierRoutingProperties routing) {
        return routing.carriers().values().stream()
                .map(endpoint -> endpoint.webhookSecret() != null ? endpoint.webhookSecret()
                        : properties.webhookSecret())
                .distinct()
                .count() > 1;
    }

    /**
     * The webhook secrets callbacks may be signed with: jambonz signs with the secret of the account that placed the
     * call, and each routed carrier may be another account ({@code routing.carriers.<name>.webhook-secret}, else the
     * default one). Each setting may list several, separated by commas: while an account's secret is rotated, the new
     * one and the old one, so that no callback of a call placed under either is refused (jambonz does not post a
     * refused status again).
     */
    static List<String> webhookSecrets(CarrierProperties properties, CarrierRoutingProperties routing) {
        Set<String> secrets = new LinkedHashSet<>();
        Stream.concat(Stream.ofNullable(properties.webhookSecret()), routing.carriers().values().stream()
                        .map(CarrierRoutingProperties.Endpoint::webhookSecret)
                        .filter(Objects::nonNull))
                .flatMap(setting -> CallbackKeys.listed(setting).stream())
                .forEach(secrets::add);
        return List.copyOf(secrets);
    }

    @PostMapping(StatusHookUrl.PATH)
    Mono<ResponseEntity<Object>> status(@RequestHeader(name = JambonzSignature.HEADER, required = false) String signed,
                                        @RequestBody(required = false) byte[] body) {
        byte[] raw = body == null ? new byte[0] : body;
        try {
            JambonzCallbackReader.Parsed parsed = verified(signed, raw);
            if (parsed.isAnsweringMachineEvent()) {
                return Mono.just(refuse("malformed", invalid("type", "an answering-machine event belongs on "
                        + StatusHookUrl.AMD_PATH)));
            }
            return statusCallback(parsed, raw);
        } catch (Refused refused) {
            return Mono.just(refused.answer);
        }
    }

    /** {@code amd.actionHook}: jambonz's answering-machine events for the call, signed like its status callbacks. */
    @PostMapping(StatusHookUrl.AMD_PATH)
    Mono<ResponseEntity<Object>> answeringMachine(
            @RequestHeader(name = JambonzSignature.HEADER, required = false) String signed,
            @RequestBody(required = false) byte[] body) {
        byte[] raw = body == null ? new byte[0] : body;
        try {
            JambonzCallbackReader.Parsed parsed = verified(signed, raw);
            if (!parsed.isAnsweringMachineEvent()) {
                return Mono.just(refuse("malformed", invalid("type",
                        "type must name an answering-machine event (amd_…)")));
            }
            return answeringMachineEvent(parsed, raw);
        } catch (Refused refused) {
            return Mono.just(refused.answer);
        }
    }

    /**
     * The callback, once its signature is checked and its body read; its lateness is recorded here, on arrival.
     *
     * @throws Refused with the problem to answer when the signature or the body is bad
     */
    private JambonzCallbackReader.Parsed verified(String signed, byte[] raw) {
        if (signature != null && !signature.verify(signed, raw)) {
            throw new Refused(refuse("signature", ProblemTypes.INVALID_SIGNATURE.detail(
                    "the " + JambonzSignature.HEADER + " header is missing, stale or does not match the body")));
        }
        JambonzCallbackReader.Parsed parsed;
        try {
            parsed = JambonzCallbackReader.read(raw);
        } catch (JambonzCallbackReader.InvalidCallback e) {
            throw new Refused(refuse("malformed", invalid(e.field(), e.getMessage())));
        }
        lag.received(parsed.carrier(), signature == null ? null : JambonzSignature.signedAt(signed),
                parsed.sentAtMillis(), !parsed.isAnsweringMachineEvent() && "trying".equals(parsed.callStatus()));
        return parsed;
    }

    private Mono<ResponseEntity<Object>> statusCallback(JambonzCallbackReader.Parsed parsed, byte[] raw) {
        Optional<AttemptStatus> status = VoiceGatewayStatus.toAttemptStatus(parsed.callStatus());
        if (status.isEmpty()) {
            applier.countUnmapped();
            return Mono.just(ResponseEntity.ok().build());
        }
        return correlated(parsed, raw, call -> call.as(status.get()));
    }

    private Mono<ResponseEntity<Object>> answeringMachineEvent(JambonzCallbackReader.Parsed parsed, byte[] raw) {
        Optional<String> answeredBy = AnsweredBy.of(parsed.amdType());
        if (answeredBy.isEmpty()) {
            // amd_machine_stopped_speaking, amd_stopped, amd_error…: nothing is decided by them.
            registry.counter("dialer.dispatcher.answering.machine.undecided").increment();
            return Mono.just(ResponseEntity.ok().build());
        }
        return correlated(parsed, raw, call -> call.detected(answeredBy.get()));
    }

    /**
     * Routes the callback as its tag's attempt's, or, when the call's application replaced the tag, as the attempt
     * that placed its call ({@code call_sid}), tagged again for the topic. A tag without the caller ID every tag of
     * ours carries may be the customer's own, whose {@code request_id} and {@code attempt} name something else (a
     * flow's own counter): the call is then known by its {@code call_sid} first, and by the tag only when no attempt
     * knows the call. A call no attempt knows is answered 404: not ours, or its attempt was forgotten (jambonz does
     * not send it again either way). With tags sealed, a tag without its seal is not ours either (a flow may have
     * copied some of our ids into its own): its call is known by its {@code call_sid} alone, and one no attempt knows
     * is refused 403 rather than routed by that tag; and one without a {@code call_sid} is refused 400, since
     * nothing would bind it to its call (jambonz always sends one). Through a PostgreSQL outage the call's attempt is
     * looked for until the database is back, for up to {@link #LOOKUP_PATIENCE}, whether or not the carrier still waits
     * for the answer.
     */
    private Mono<ResponseEntity<Object>> correlated(JambonzCallbackReader.Parsed parsed, byte[] raw,
                                                    Function<JambonzCallbackReader.Parsed, CarrierCallback> callback) {
        if (tagSeal.enabled() && parsed.callSid() == null) {
            return Mono.just(refuse("malformed", invalid("call_sid", "call_sid is required: with tags sealed, a "
                    + "callback is bound to the call it names")));
        }
        boolean sealed = sealed(parsed);
        Mono<ResponseEntity<Object>> byTag = Mono.defer(() -> sealed
                ? route(parsed, raw, () -> applier.apply(callback.apply(parsed)))
                : Mono.just(refuse("seal", sealRefused())));
        if (parsed.tagged() && (parsed.callSid() == null || (parsed.callerId() != null && sealed))) {
            return byTag;
        }
        return detached(ledger.attemptOfCall(parsed.callSid())
                .retryWhen(InfraRetry.untilRecovered("attempt of call"))
                .timeout(LOOKUP_PATIENCE)
                .map(Optional::of)
                .defaultIfEmpty(Optional.empty())
                .flatMap(found -> {
                    if (found.isEmpty() && parsed.tagged()) {
                        return byTag;
                    }
                    if (found.isEmpty()) {
                        applier.countUnknown(callback.apply(parsed));
                        log.info("callback {} of call {} names no attempt in its tag, and no attempt knows the call",
                                name(parsed), parsed.callSid());
                        return Mono.just(problem(ProblemTypes.UNKNOWN_ATTEMPT.detail("no attempt is recorded for "
                                + "this callback's call_sid, and its customerData names none")));
                    }
                    JambonzCallbackReader.Parsed call = parsed.of(found.get());
                    return route(call, JambonzCallbackReader.retagged(raw, found.get()),
                            () -> applier.apply(callback.apply(call)));
                })
                .onErrorResume(error -> notApplied(parsed, error)));
    }

    /**
     * Applied here when this dispatcher owns the caller ID and dialled the call, or when the tag names no caller ID;
     * otherwise to the caller ID's owner through the callbacks topic.
     */
    private Mono<ResponseEntity<Object>> route(JambonzCallbackReader.Parsed parsed, byte[] raw,
                                               Supplier<Mono<CallbackApplier.Result>> here) {
        if (parsed.callerId() == null) {
            // A tag without a caller ID (not one this dispatcher wrote) cannot be routed to an owner: applied here.
            callbacks.routed(CallbackRecords.DIRECT);
            return Mono.defer(here)
                    .map(this::answer)
                    .onErrorResume(error -> notApplied(parsed, error));
        }
        // Read before the ownership is: a revocation between the two is then seen as one during the application.
        long revocations = keys.revocations();
        if (ownedAndDialledHere(parsed)) {
            return inPlace(parsed, raw, here, revocations);
        }
        return toOwner(parsed, raw, here);
    }

    /**
     * Applies the callback here and answers once it is applied. The application runs to its end whatever the answer
     * (cancelled, it could cut a transaction or the carrier's cancel short). Not applied within
     * {@link #IN_PLACE_LIMIT}, or failed, the callback is appended to the topic, and the call's later callbacks follow
     * it there rather than overtake it. That runs to its end too, and so does a copy for the next owner: the carrier
     * may stop waiting for the answer before (its own time-out, a proxy's reset), and never sends the callback again.
     */
    private Mono<ResponseEntity<Object>> inPlace(JambonzCallbackReader.Parsed parsed, byte[] raw,
                                                 Supplier<Mono<CallbackApplier.Result>> here, long revocations) {
        Mono<CallbackApplier.Result> applying = Mono.defer(here).cache();
        // Counted in place once applied, whether or not the carrier still waits for the answer; unless it fell back to
        // the topic first (too late, or failed), where it is counted as appended.
        AtomicBoolean fellBack = new AtomicBoolean();
        applying.subscribe(result -> {
            if (!fellBack.get()) {
                callbacks.routed(CallbackRecords.IN_PLACE);
            }
        }, error -> log.debug("callback {} for request {} attempt {} failed in place", name(parsed),
                parsed.requestId(), parsed.attempt(), error));
        return detached(applying
                .timeout(IN_PLACE_LIMIT)
                .flatMap(result -> keys.revocations() == revocations ? Mono.just(answer(result))
                        : toNextOwner(parsed, raw, result))
                .onErrorResume(error -> {
                    fellBack.set(true);
                    boolean late = error instanceof TimeoutException;
                    registry.counter(FALLBACKS, "reason", late ? "timeout" : "error").increment();
                    log.warn("callback {} for request {} attempt {} could not be applied in place{}; appended for "
                            + "the caller ID's owner", name(parsed), parsed.requestId(), parsed.attempt(),
                            late ? " within " + IN_PLACE_LIMIT.toSeconds() + " s" : "", late ? null : error);
                    openAttempts.throughTopic(parsed.requestId(), parsed.attempt());
                    return toOwner(parsed, raw, null);
                }));
    }

    /**
     * Applied here while partitions moved: the next owner may have counted the call as in flight before the change
     * was committed. A copy goes to it, which changes nothing more and frees what it counted; the carrier's answer is
     * the application's.
     */
    private Mono<ResponseEntity<Object>> toNextOwner(JambonzCallbackReader.Parsed parsed, byte[] raw,
                                                     CallbackApplier.Result result) {
        return detached(callbacks.appendCopy(parsed.callerId(), raw, Map.of(CallbackRecords.CALL_BOUND_HEADER, "true"))
                .thenReturn(answer(result))
                .onErrorResume(error -> {
                    log.warn("callback {} for request {} attempt {} was applied while partitions moved, and its copy "
                            + "for the next owner could not be appended: that owner may hold the call's trunk slot "
                            + "until it lapses", name(parsed), parsed.requestId(), parsed.attempt(), error);
                    return Mono.just(answer(result));
                }));
    }

    /** Whether the tag that names the callback's attempt carries its seal, or tags are not sealed. */
    private boolean sealed(JambonzCallbackReader.Parsed parsed) {
        return tagSeal.verifies(parsed.seal(), parsed.requestId(), parsed.attempt(), parsed.dial(), parsed.carrier(),
                parsed.callerId());
    }

    private static ProblemDetail sealRefused() {
        ProblemDetail problem = ProblemTypes.INVALID_SEAL.detail("customerData does not carry the seal of the ids it "
                + "names: the tag is not one this dialer gave the carrier");
        problem.setProperty("field", "customerData." + TagSeal.FIELD);
        return problem;
    }

    private static String name(JambonzCallbackReader.Parsed parsed) {
        return parsed.isAnsweringMachineEvent() ? parsed.amdType() : parsed.callStatus();
    }

    /**
     * Whether this dispatcher is the one writer of the call and all its callbacks so far came here: it owns the
     * caller ID's partition and recorded the attempt since its ownership began. A call recorded before (a rebalance
     * in between, during which its callbacks went through the topic and may not have been read back yet), or one
     * another dispatcher dialled, goes through the topic to the owner, where it stays behind those before it.
     */
    private boolean ownedAndDialledHere(JambonzCallbackReader.Parsed parsed) {
        return applyInPlace && openAttempts.dialledHereSince(parsed.requestId(), parsed.attempt(),
                keys.ownedSince(parsed.callerId()));
    }

    /**
     * Appends the callback for the caller ID's owner; one that cannot be appended (Kafka away past the append's
     * retries) is applied here instead by {@code orHere}, when given, rather than lost: the carrier never sends it
     * again. The call's one writer is then this dispatcher for that callback: the guarded transitions keep the
     * attempt's state moving forwards should the owner apply another of the call's callbacks meanwhile, and the owner
     * holds the call's trunk slot until it lapses, as for a copy it never got.
     */
    private Mono<ResponseEntity<Object>> toOwner(JambonzCallbackReader.Parsed parsed, byte[] raw,
                                                 Supplier<Mono<CallbackApplier.Result>> orHere) {
        return detached(callbacks.append(parsed.callerId(), raw)
                .thenReturn(ResponseEntity.<Object>ok().build())
                .onErrorResume(error -> orHere == null ? notApplied(parsed, error) : hereInstead(parsed, orHere,
                        error)));
    }

    private Mono<ResponseEntity<Object>> hereInstead(JambonzCallbackReader.Parsed parsed,
                                                     Supplier<Mono<CallbackApplier.Result>> here, Throwable error) {
        log.warn("callback {} for request {} attempt {} could not be appended for its caller ID's owner ({}); applied "
                + "here instead", name(parsed), parsed.requestId(), parsed.attempt(), error.toString());
        return Mono.defer(here)
                .doOnNext(result -> callbacks.routed(CallbackRecords.HERE_INSTEAD))
                .map(this::answer)
                .onErrorResume(failed -> notApplied(parsed, failed));
    }

    /**
     * Runs {@code answering}, which never errors (each failure is answered, and logged where it is), on a subscription
     * of its own that the carrier's request going away does not cancel: jambonz gives up on a callback after its own
     * time-out (10 s; the application in place may have used 5 of them) and never sends it again, so an application,
     * an append still in Kafka's hands or between its retries, must go on. The answer waits for it as before.
     */
    private static <T> Mono<T> detached(Mono<T> answering) {
        Mono<T> cached = answering.cache();
        cached.subscribe();
        return cached;
    }

    /**
     * 404 for an unknown attempt; 200 for the rest, a callback of another call than its attempt's included: it is
     * counted and logged here, and a refusal would change nothing at the carrier.
     */
    private ResponseEntity<Object> answer(CallbackApplier.Result result) {
        if (result == CallbackApplier.Result.UNKNOWN_ATTEMPT) {
            return problem(ProblemTypes.UNKNOWN_ATTEMPT.detail("no attempt is recorded for this callback's "
                    + "customerData.request_id and customerData.attempt"));
        }
        return ResponseEntity.ok().build();
    }

    private Mono<ResponseEntity<Object>> notApplied(JambonzCallbackReader.Parsed parsed, Throwable error) {
        log.error("callback {} for request {} attempt {} (call {}) not applied", name(parsed), parsed.requestId(),
                parsed.attempt(), parsed.callSid(), error);
        return Mono.just(problem(ProblemTypes.CALLBACK_NOT_APPLIED.detail("the callback could not be applied")));
    }

    private static ProblemDetail invalid(String field, String message) {
        ProblemDetail problem = ProblemTypes.INVALID_CALLBACK.detail(message);
        problem.setProperty("field", field);
        return problem;
    }

    private ResponseEntity<Object> refuse(String reason, ProblemDetail problem) {
        registry.counter(REJECTED, "reason", reason).increment();
        return problem(problem);
    }

    private static ResponseEntity<Object> problem(ProblemDetail problem) {
        return ResponseEntity.status(problem.getStatus()).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .body(problem);
    }

    /** A callback refused before it could be routed, with the answer to give. */
    private static final class Refused extends RuntimeException {
        private final transient ResponseEntity<Object> answer;

        Refused(ResponseEntity<Object> answer) {
            super(null, null, false, false);
            this.answer = answer;
        }
    }
}
