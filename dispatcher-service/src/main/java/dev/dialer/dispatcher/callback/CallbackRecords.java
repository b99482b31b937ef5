package dev.dialer.dispatcher.callback;

import dev.dialer.common.contract.ContractViolation;
import dev.dialer.common.kafka.DeadLetters;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.command.KeyRouting;
import dev.dialer.dispatcher.resilience.InfraRetry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Carrier callbacks through {@code dialer.carrier.callbacks}: the status endpoint appends each verified callback it
 * does not apply in place, untouched (but for our tag, put back when the call's application replaced it), keyed by
 * the call's caller ID, so it lands on the partition number the caller ID's commands use; the dispatcher that owns
 * that partition (the commands and callbacks topics are co-partitioned and assigned together) applies it. One writer
 * per call: its trunk slot, the order of its statuses and its single final event stay with the caller ID's owner,
 * whichever instance the carrier's HTTP request reached.
 *
 * <p>Answering-machine events travel the same way ({@link JambonzCallbackReader} tells them apart by their
 * {@code type}), and so do the SIP trunk carrier's statuses of calls whose caller ID this dispatcher no longer owns
 * ({@link SipStatusReports}).
 *
 * <p>Delivery: at least once per callback; {@link CallbackApplier} makes a repeated one change nothing. A record that
 * cannot be read or applied is kept in {@value Topics#CARRIER_CALLBACKS_DLQ}, counted and skipped: the endpoint
 * verified it before appending, so it is a defect, or another producer's record.
 */
@Component
public class CallbackRecords {

    private static final Logger log = LoggerFactory.getLogger(CallbackRecords.class);
    /** Routed through the topic to the caller ID's owner. */
    static final String TOPIC = "topic";
    /** Applied where it arrived: its tag names no caller ID. */
    static final String DIRECT = "direct";
    /** Applied where it arrived by the caller ID's owner, which dialled the call (decision 0100). */
    static final String IN_PLACE = "in_place";
    /**
     * Read on a partition its caller ID no longer hashes to (the topics grew, and its producer's count lagged), and
     * written again to the caller ID's partition.
     */
    static final String REROUTED = "rerouted";
    /**
     * Not a callback of its own: a copy of one applied here, or of an end the watchdog committed here, appended for
     * the caller ID's owner, which frees what it counted for the call.
     */
    static final String COPY = "copy";
    /**
     * Applied where it arrived although another dispatcher owns its caller ID, or this one did not dial it: it could
     * not be appended for the owner (Kafka away past the append's retries), and the carrier never sends it again.
     */
    static final String HERE_INSTEAD = "here_instead";
    /**
     * The header of a topic record that is bound to the call its {@code call_sid} names
     * ({@link CarrierCallback#callBound()}): a Voice Gateway callback, which the endpoint appends. Written by the
     * dispatcher alone, like {@link SipStatusReports#TAKEN_OVER_HEADER}; the SIP trunk's other reports go without it.
     */
    static final String CALL_BOUND_HEADER = "dialer.call-bound";
    /** The {@code code} tags of {@code dialer.dispatcher.callbacks.skipped}. */
    private static final List<ContractViolation.Code> SKIP_CODES = List.of(ContractViolation.Code.NOT_JSON,
            ContractViolation.Code.SCHEMA_INVALID, ContractViolation.Code.PROCESSING_ERROR);

    private final CallbackApplier applier;
    private final KafkaPublisher publisher;
    private final MeterRegistry registry;
    private final DeadLetters deadLetters;
    private final KeyRouting routing;

    CallbackRecords(CallbackApplier applier, KafkaPublisher publisher, MeterRegistry registry, KeyRouting routing) {
        this.applier = applier;
        this.publisher = publisher;
        this.registry = registry;
        this.routing = routing;
        for (String path : new String[] {TOPIC, DIRECT, IN_PLACE, COPY, REROUTED, HERE_INSTEAD}) {
            registry.counter("dialer.dispatcher.callbacks.routed", "path", path);
        }
        // What the endpoint or the SIP trunk said of the callback, which a copy published again must say too.
        this.deadLetters = new DeadLetters(publisher, Topics.CARRIER_CALLBACKS_DLQ, Set.of(CALL_BOUND_HEADER,
                SipStatusReports.ERROR_CODE_HEADER, SipStatusReports.TAKEN_OVER_HEADER));
        for (ContractViolation.Code code : SKIP_CODES) {
            skipped(code);
        }
    }

    /**
     * Appends a verified Voice Gateway callback for its caller ID's owner, marked bound to its call
     * ({@value #CALL_BOUND_HEADER}); completes once Kafka has it ({@code acks=all}). Its tag names its attempt (the
     * endpoint puts ours back when the call's application replaced it).
     */
    Mono<Void> append(String callerId, byte[] body) {
        return append(callerId, body, Map.of(CALL_BOUND_HEADER, "true"));
    }

    /**
     * Appends a callback with headers: {@link SipStatusReports#ERROR_CODE_HEADER} carries the dialer's own verdict on
     * a SIP call it ended itself, and {@link SipStatusReports#TAKEN_OVER_HEADER} marks the report of a call it took
     * over, which no carrier's callback can set.
     */
    Mono<Void> append(String callerId, byte[] body, Map<String, String> headers) {
        return append(callerId, body, headers, TOPIC);
    }

    /** Appends a copy of a callback applied here ({@link #COPY}), with headers as {@link #append} takes them. */
    Mono<Void> appendCopy(String callerId, byte[] body, Map<String, String> headers) {
        return append(callerId, body, headers, COPY);
    }

    /**
     * Written to the partition this dispatcher's count gives the caller ID, not left to the producer: after the topics
     * grew, the producer's count may lag the group's for minutes (its metadata's age), and the record would land where
     * the caller ID's former partition's owner applies it, freeing nothing its owner counted for the call.
     */
    private Mono<Void> append(String callerId, byte[] body, Map<String, String> headers, String path) {
        return publisher.publish(new OutboundRecord(Topics.CARRIER_CALLBACKS, callerId, body, headers, List.of(),
                        routing.callbackPartitionFor(callerId)))
                .retryWhen(InfraRetry.brief("append callback"))
                .then(Mono.fromRunnable(() -> routed(path)));
    }

    /**
     * A record of the topic as the dispatcher applies it: a Voice Gateway callback, an answering-machine event or a
     * SIP trunk status ({@link SipStatusReports}); empty for a status that decides nothing.
     *
     * @throws JambonzCallbackReader.InvalidCallback when the body is not a callback, or its tag names no attempt
     */
    static Optional<CarrierCallback> read(byte[] body, Map<String, String> headers) {
        JambonzCallbackReader.Parsed parsed = JambonzCallbackReader.read(body);
        if (!parsed.tagged()) {
            throw new JambonzCallbackReader.InvalidCallback("customerData.request_id",
                    "a record's tag names its attempt: the endpoint tags what it appends");
        }
        boolean callBound = "true".equals(headers.get(CALL_BOUND_HEADER));
        return parsed.isAnsweringMachineEvent()
                ? AnsweredBy.of(parsed.amdType()).map(answeredBy -> parsed.detected(answeredBy, callBound))
                : SipStatusReports.statusOf(parsed.callStatus())
                        .map(status -> parsed.as(status, headers.get(SipStatusReports.ERROR_CODE_HEADER),
                                "true".equals(headers.get(SipStatusReports.TAKEN_OVER_HEADER)), callBound));
    }

    /**
     * Counts a callback by the path it took: {@link #TOPIC}, {@link #DIRECT}, {@link #IN_PLACE}, {@link #COPY},
     * {@link #REROUTED} or {@link #HERE_INSTEAD}.
     */
    void routed(String path) {
        registry.counter("dialer.dispatcher.callbacks.routed", "path", path).increment();
    }

    /**
     * Applies one callback record, then acknowledges it; never errors. One that cannot be read, or whose applying
     * fails for a reason other than an outage (waited out), is skipped so that its partition goes on: acknowledged
     * once its copy is in {@value Topics#CARRIER_CALLBACKS_DLQ}.
     */
    public Mono<Void> handle(InboundRecord record) {
        OutboundRecord rerouted = routing.rerouted(record);
        return Mono.defer(() -> rerouted != null ? reroute(record, rerouted) : apply(record))
                .onErrorResume(error -> {
                    ContractViolation violation = violation(error);
                    if (violation.code() == ContractViolation.Code.PROCESSING_ERROR) {
                        log.error("callback at {}-{}@{} could not be applied; a copy goes to {}", record.topic(),
                                record.partition(), record.offset(), Topics.CARRIER_CALLBACKS_DLQ, error);
                    }
                    return deadLetter(record, violation);
                })
                .then(Mono.fromRunnable(record::acknowledge));
    }

    /** What the DLQ copy says of the failure: the record's fault ({@code not_json}, {@code schema_invalid}) or ours. */
    static ContractViolation violation(Throwable error) {
        if (error instanceof JambonzCallbackReader.InvalidCallback invalid) {
            return new ContractViolation(invalid.notJson() ? ContractViolation.Code.NOT_JSON
                    : ContractViolation.Code.SCHEMA_INVALID, invalid.field() + ": " + invalid.getMessage());
        }
        return new ContractViolation(ContractViolation.Code.PROCESSING_ERROR, "applying failed: " + error);
    }

    private Mono<Void> deadLetter(InboundRecord record, ContractViolation violation) {
        return deadLetters.sendUntilDone(record, violation, "callback")
                .doOnNext(copy -> skipped(violation.code()).increment())
                .then();
    }

    private Counter skipped(ContractViolation.Code code) {
        return Counter.builder("dialer.dispatcher.callbacks.skipped")
                .description("Records of dialer.carrier.callbacks that could not be read or applied, skipped and "
                        + "kept in " + Topics.CARRIER_CALLBACKS_DLQ)
                .tag("code", code.wire())
                .register(registry);
    }

    /** Writes the record again to its caller ID's partition, whose owner applies it. */
    private Mono<Void> reroute(InboundRecord record, OutboundRecord rerouted) {
        log.info("callback at {}-{}@{} is not on its caller ID's partition ({}); re-routed", record.topic(),
                record.partition(), record.offset(), rerouted.partition());
        return publisher.publish(rerouted)
                .retryWhen(InfraRetry.untilRecovered("re-route callback"))
                .then(Mono.fromRunnable(() -> routed(REROUTED)));
    }

    private Mono<Void> apply(InboundRecord record) {
        Optional<CarrierCallback> callback = read(record.value(), record.headers());
        if (callback.isEmpty()) {
            applier.countUnmapped();
            return Mono.empty();
        }
        return applier.apply(callback.get())
                .retryWhen(InfraRetry.untilRecovered("apply callback"))
                .then();
    }
}
