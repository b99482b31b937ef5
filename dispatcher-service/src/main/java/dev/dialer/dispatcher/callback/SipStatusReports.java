package dev.dialer.dispatcher.callback;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.dispatcher.attempt.OpenAttempts;
import dev.dialer.dispatcher.command.KeyRouting;
import dev.dialer.dispatcher.resilience.InfraRetry;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import tools.jackson.databind.node.ObjectNode;

/**
 * The statuses the SIP trunk carrier reports for the calls it keeps, applied by their caller ID's owner as the Voice
 * Gateway's callbacks are (decision 0101): here while this dispatcher owns the caller ID, else appended to
 * {@code dialer.carrier.callbacks} in the Voice Gateway's shape, for the owner to read back.
 *
 * <p>A SIP dialog stays with the dispatcher that placed the call, whoever owns its caller ID later. After a rebalance
 * the new owner counts the call in its trunk's concurrency (decision 0011) and frees that slot only when the call's end
 * reaches it; applied where the dialog is, the end freed nothing there and the slot stayed taken until it lapsed. The
 * same holds for a call found orphaned at start-up and ended by whichever dispatcher took it: its end, with the
 * dialer's own {@code error.code}, goes to the owner too.
 *
 * <p>A call's statuses are applied here only if it was placed here since this dispatcher's ownership of the caller ID
 * began, so all its earlier statuses were applied here too; once one has gone through the topic, the rest follow it
 * there and stay in order.
 */
@Component
public class SipStatusReports {

    private static final Logger log = LoggerFactory.getLogger(SipStatusReports.class);
    private static final String CANCELED = "canceled";
    /**
     * The header of a topic record carrying {@link CarrierCallback#errorCode()}: only the dispatcher writes it, so no
     * carrier's callback can set the events' {@code error.code}.
     */
    static final String ERROR_CODE_HEADER = "dialer.error-code";
    /**
     * The header of a topic record that is the report of a SIP call taken over from a dispatcher that stopped
     * ({@link CarrierCallback#takenOver()}), present only then; written, as the error code, by the dispatcher alone.
     */
    static final String TAKEN_OVER_HEADER = "dialer.taken-over";

    private final CallbackApplier applier;
    private final OpenAttempts openAttempts;
    private final KeyRouting keys;
    private final CallbackRecords records;

    SipStatusReports(CallbackApplier applier, OpenAttempts openAttempts, KeyRouting keys, CallbackRecords records) {
        this.applier = applier;
        this.openAttempts = openAttempts;
        this.keys = keys;
        this.records = records;
    }

    /** Applies the status here or hands it to its owner; completes once it is applied or Kafka has it. */
    public Mono<?> report(CarrierCallback status) {
        // Read before the ownership is: a revocation between the two is then seen as one during the application.
        long revocations = keys.revocations();
        return openAttempts.command(status.requestId(), status.attempt())
                .retryWhen(InfraRetry.brief("find attempt"))
                .flatMap(command -> appliesHere(status, command) ? here(status, command, revocations)
                        : toOwner(status, command))
                // No such attempt: the applier counts and answers it as such.
                .switchIfEmpty(Mono.defer(() -> applier.apply(status)));
    }

    /**
     * Applied here. Should partitions move meanwhile, the status is also appended for the caller ID's next owner,
     * which may have counted the call as in flight before it was applied: that copy changes nothing more and frees
     * what the owner counted.
     */
    private Mono<CallbackApplier.Result> here(CarrierCallback status, CallCommand command, long revocations) {
        return applier.apply(status)
                .doOnNext(result -> records.routed(CallbackRecords.IN_PLACE))
                .flatMap(result -> keys.revocations() == revocations ? Mono.just(result)
                        : records.appendCopy(command.callerId(), body(status, command.callerId()), headers(status))
                                .thenReturn(result));
    }

    /**
     * Whether this dispatcher applies the status itself: it owns the caller ID and placed the call since its
     * ownership began, so every earlier status of the call was applied here. A call placed before a rebalance may
     * have had statuses appended to the topic meanwhile: its later ones follow them there. Before the command
     * pipeline has learnt its partitions this dispatcher owns nothing: the status goes to whichever does.
     */
    private boolean appliesHere(CarrierCallback status, CallCommand command) {
        return openAttempts.dialledHereSince(status.requestId(), status.attempt(), keys.ownedSince(command.callerId()));
    }

    /**
     * An attempt's end the watchdog committed here, on a dispatcher that may not own the call's caller ID (it claims
     * quiet attempts whoever owns them): where another does, a copy goes to that owner, whose ledger refuses it as late
     * and which frees the trunk slot it holds for the call ({@link CallbackApplier}'s refusal of a callback whose
     * attempt has no dial in flight), as the end of a SIP call applied where its dialog is does. Without it the owner
     * held the slot until its hold lapsed: the call's own ring timeout and time limit and a margin since the dial,
     * hours after the end for a command given a long time limit. Completes once Kafka has the copy, or at once.
     */
    public Mono<Void> endedHere(CarrierCallback end, String callerId) {
        if (keys.owns(callerId)) {
            return Mono.empty();
        }
        log.debug("{} of request {} attempt {} ended here: caller ID owned elsewhere, a copy appended for its owner",
                end.status().wire(), end.requestId(), end.attempt());
        return records.appendCopy(callerId, body(end, callerId), headers(end));
    }

    /**
     * Appended for the caller ID's owner; one that cannot be (Kafka away past the append's retries) is applied here
     * instead, as the endpoint does with a carrier's callback: the owner holds the call's trunk slot until it lapses.
     */
    private Mono<CallbackApplier.Result> toOwner(CarrierCallback status, CallCommand command) {
        log.debug("{} of request {} attempt {}: caller ID owned elsewhere, appended for its owner",
                status.providerStatus(), status.requestId(), status.attempt());
        return records.append(command.callerId(), body(status, command.callerId()), headers(status))
                .thenReturn(CallbackApplier.Result.APPLIED)
                .onErrorResume(error -> {
                    log.warn("{} of request {} attempt {} could not be appended for its caller ID's owner ({}); "
                            + "applied here instead", status.providerStatus(), status.requestId(), status.attempt(),
                            error.toString());
                    return applier.apply(status)
                            .doOnNext(result -> records.routed(CallbackRecords.HERE_INSTEAD));
                });
    }

    /**
     * The headers of the status's topic record: the dialer's own error code, if it ended the call itself, and whether
     * it reports a call it took over.
     */
    static Map<String, String> headers(CarrierCallback status) {
        Map<String, String> headers = new HashMap<>();
        if (status.errorCode() != null) {
            headers.put(ERROR_CODE_HEADER, status.errorCode());
        }
        if (status.takenOver()) {
            headers.put(TAKEN_OVER_HEADER, "true");
        }
        return Map.copyOf(headers);
    }

    /**
     * A topic record's {@code call_status} in the dialer's words: the Voice Gateway's statuses
     * ({@link VoiceGatewayStatus}) and the SIP trunk carrier's own {@code canceled} (a call we cancelled).
     */
    static Optional<AttemptStatus> statusOf(String callStatus) {
        return VoiceGatewayStatus.toAttemptStatus(callStatus)
                .or(() -> CANCELED.equals(callStatus) ? Optional.of(AttemptStatus.CANCELED) : Optional.empty());
    }

    /**
     * The status as the Voice Gateway would post it ({@link JambonzCallbackReader} reads it back): {@code call_status}
     * the raw status (the status's own name for an end the dialer inferred, which has none, and for an end inferred
     * from a raw status that said the call was alive: the watchdog's end of a call the carrier still listed as in
     * progress past its life, which the owner would otherwise read as in progress and keep the call's trunk slot), the
     * SIP code, reason and talk time, and the correlation tag with the caller ID. The dialer's own error code, when it
     * ended the call itself, travels in the record's {@value #ERROR_CODE_HEADER} header, and the mark of a report of a
     * call it took over in {@value #TAKEN_OVER_HEADER}.
     */
    static byte[] body(CarrierCallback status, String callerId) {
        ObjectNode json = Contract.mapper().createObjectNode();
        json.put("call_sid", status.providerCallId());
        json.put("call_status", callStatus(status));
        if (status.sipStatus() != null) {
            json.put("sip_status", status.sipStatus());
        }
        if (status.sipReason() != null) {
            json.put("sip_reason", status.sipReason());
        }
        if (status.durationSeconds() != null) {
            json.put("duration", status.durationSeconds());
        }
        ObjectNode tag = json.putObject("customerData");
        tag.put("request_id", status.requestId());
        tag.put("attempt", status.attempt());
        tag.put("caller_id", callerId);
        if (status.dial() != null) {
            tag.put("dial", status.dial());
        }
        return Contract.mapper().writeValueAsBytes(json);
    }

    private static String callStatus(CarrierCallback status) {
        String raw = status.providerStatus();
        boolean aliveThoughEnded = raw != null && status.status().isTerminal()
                && statusOf(raw).filter(said -> !said.isTerminal()).isPresent();
        return raw == null || aliveThoughEnded ? status.status().wire() : raw;
    }
}
