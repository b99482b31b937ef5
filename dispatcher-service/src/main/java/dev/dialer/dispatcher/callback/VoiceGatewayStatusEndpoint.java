package dev.dialer.dispatcher.callback;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.dispatcher.carrier.CarrierProperties;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.Optional;
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
 * The Voice Gateway's status hook ({@code call_status_hook}): the only non-operational endpoint of this service.
 *
 * <p>A verified callback whose tag names the caller ID is appended to {@code dialer.carrier.callbacks} keyed by it
 * ({@link CallbackRecords}) and answered 200 once Kafka has it, so whichever dispatcher owns the caller ID applies it;
 * one without is applied here and answered once its events are published. jambonz posts a call's callbacks one after
 * another, so answering only then keeps each call's callbacks in order, on the topic as in the database. jambonz does not resend a refused callback; a lost status is
 * the reconciliation watchdog's to find.
 */
@RestController
class VoiceGatewayStatusEndpoint {

    private static final Logger log = LoggerFactory.getLogger(VoiceGatewayStatusEndpoint.class);

    private final JambonzSignature signature;
    private final CallbackApplier applier;
    private final CallbackRecords callbacks;
    private final MeterRegistry registry;

    VoiceGatewayStatusEndpoint(CarrierProperties properties, CallbackApplier applier, CallbackRecords callbacks,
                               MeterRegistry registry) {
        this.applier = applier;
        this.callbacks = callbacks;
        this.registry = registry;
        if (properties.webhookSecret() == null) {
            // Acceptable on a private network with the simulator; anyone who can reach the port could forge statuses.
            log.warn("dialer.dispatcher.carrier.webhook-secret is not set: status callbacks are accepted unsigned");
            this.signature = null;
        } else {
            this.signature = new JambonzSignature(properties.webhookSecret(), properties.signatureTolerance(),
                    Clock.systemUTC());
        }
    }

    @PostMapping(StatusHookUrl.PATH)
    Mono<ResponseEntity<Object>> status(@RequestHeader(name = JambonzSignature.HEADER, required = false) String signed,
                                        @RequestBody(required = false) byte[] body) {
        byte[] raw = body == null ? new byte[0] : body;
        if (signature != null && !signature.verify(signed, raw)) {
            return Mono.just(refuse("signature", ProblemTypes.INVALID_SIGNATURE.detail(
                    "the " + JambonzSignature.HEADER + " header is missing, stale or does not match the body")));
        }
        JambonzCallbackReader.Parsed parsed;
        try {
            parsed = JambonzCallbackReader.read(raw);
        } catch (JambonzCallbackReader.InvalidCallback e) {
            ProblemDetail problem = ProblemTypes.INVALID_CALLBACK.detail(e.getMessage());
            problem.setProperty("field", e.field());
            return Mono.just(refuse("malformed", problem));
        }
        Optional<AttemptStatus> status = VoiceGatewayStatus.toAttemptStatus(parsed.callStatus());
        if (status.isEmpty()) {
            applier.countUnmapped();
            return Mono.just(ResponseEntity.ok().build());
        }
        Optional<String> callerId = CallbackRecords.callerId(raw);
        if (callerId.isPresent()) {
            return callbacks.append(callerId.get(), raw)
                    .thenReturn(ResponseEntity.ok().build())
                    .onErrorResume(error -> notApplied(parsed, error));
        }
        // A tag without a caller ID (not one this dispatcher wrote) cannot be routed to an owner: applied here.
        callbacks.appliedDirectly();
        return applier.apply(parsed.as(status.get()))
                .map(this::answer)
                .onErrorResume(error -> notApplied(parsed, error));
    }

    private ResponseEntity<Object> answer(CallbackApplier.Result result) {
        if (result == CallbackApplier.Result.UNKNOWN_ATTEMPT) {
            return problem(ProblemTypes.UNKNOWN_ATTEMPT.detail("no attempt is recorded for this callback's "
                    + "customerData.request_id and customerData.attempt"));
        }
        return ResponseEntity.ok().build();
    }

    private Mono<ResponseEntity<Object>> notApplied(JambonzCallbackReader.Parsed parsed, Throwable error) {
        log.error("status callback {} for request {} attempt {} not applied", parsed.callStatus(),
                parsed.requestId(), parsed.attempt(), error);
        return Mono.just(problem(ProblemTypes.CALLBACK_NOT_APPLIED.detail("the callback could not be applied")));
    }

    private ResponseEntity<Object> refuse(String reason, ProblemDetail problem) {
        registry.counter("dialer.dispatcher.callbacks.rejected", "reason", reason).increment();
        return problem(problem);
    }

    private static ResponseEntity<Object> problem(ProblemDetail problem) {
        return ResponseEntity.status(problem.getStatus()).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .body(problem);
    }
}
