package dev.dialer.dispatcher.callback;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.dispatcher.attempt.OpenAttempts;
import dev.dialer.dispatcher.command.KeyRouting;
import dev.dialer.dispatcher.resilience.InfraRetry;
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
 * reaches it; applied where the dialog is, the end freed nothing there and the slot stayed taken until it lapsed.
 *
 * <p>A status the dialer decided itself ({@link CarrierCallback#errorCode()}: a call found orphaned at start-up) is
 * applied here: the topic's shape has no room for it, and such a call has no trunk slot counted anywhere else.
 */
@Component
public class SipStatusReports {

    private static final Logger log = LoggerFactory.getLogger(SipStatusReports.class);
    private static final String CANCELED = "canceled";

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
        if (status.errorCode() != null || status.isAnsweringMachineResult()) {
            return applier.apply(status);
        }
        return openAttempts.command(status.requestId(), status.attempt())
                .retryWhen(InfraRetry.brief("find attempt"))
                .flatMap(command -> keys.owns(command.callerId()) || keys.partitions() == 0
                        ? applier.apply(status)
                        : toOwner(status, command))
                // No such attempt: the applier counts and answers it as such.
                .switchIfEmpty(Mono.defer(() -> applier.apply(status)));
    }

    private Mono<CallbackApplier.Result> toOwner(CarrierCallback status, CallCommand command) {
        log.debug("{} of request {} attempt {}: caller ID owned elsewhere, appended for its owner",
                status.providerStatus(), status.requestId(), status.attempt());
        return records.append(command.callerId(), body(status, command.callerId()))
                .thenReturn(CallbackApplier.Result.APPLIED);
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
     * the raw status, the SIP code, reason and talk time, and the correlation tag with the caller ID.
     */
    static byte[] body(CarrierCallback status, String callerId) {
        ObjectNode json = Contract.mapper().createObjectNode();
        json.put("call_sid", status.providerCallId());
        json.put("call_status", status.providerStatus());
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
}
