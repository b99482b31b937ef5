package dev.dialer.api.send;

import dev.dialer.api.ApiProperties;
import dev.dialer.api.account.Account;
import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.FieldError;
import dev.dialer.api.webhook.Webhooks;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import dev.dialer.common.phone.PhoneNumbers;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Turns a parsed send request into one {@link CallCommand} per valid recipient on {@code dialer.call.commands},
 * keyed by the caller ID. The answer is built only after Kafka acknowledged every record (acks=all): a 200 means the
 * calls are durable; no acknowledgement in time means 503 and the client may retry.
 */
@Component
class CallQueue {

    private static final Logger log = LoggerFactory.getLogger(CallQueue.class);
    private static final Duration RETRY_AFTER = Duration.ofSeconds(5);

    private final KafkaPublisher publisher;
    private final Webhooks webhooks;
    private final Duration ackTimeout;
    private final MeterRegistry meters;
    private final Timer produceLatency;

    CallQueue(KafkaPublisher publisher, Webhooks webhooks, ApiProperties properties, MeterRegistry meters) {
        this.publisher = publisher;
        this.webhooks = webhooks;
        this.ackTimeout = properties.kafka().ackTimeout();
        this.meters = meters;
        this.produceLatency = Timer.builder("dialer.api.produce.latency")
                .description("time from send to Kafka's acknowledgement of all its commands")
                .publishPercentileHistogram().register(meters);
    }

    Mono<SendResponse> enqueue(Account account, SendRequest request) {
        return checkWebhook(account, request.webhookId())
                .then(Mono.fromCallable(() -> plan(account, request)))
                .flatMap(plan -> produce(plan).thenReturn(plan.response()));
    }

    private Mono<Void> checkWebhook(Account account, String webhookId) {
        if (webhookId == null) {
            return Mono.empty();
        }
        return webhooks.find(account.id(), webhookId)
                .switchIfEmpty(Mono.error(() -> ApiProblem.invalid("webhook_id", "does not name a webhook of this account")))
                .then();
    }

    private record Plan(List<CallCommand> commands, SendResponse response) {
    }

    private static Plan plan(Account account, SendRequest request) {
        PhoneNumbers.Result bridge = PhoneNumbers.normalize(request.bridge(), account.defaultRegion());
        if (!bridge.valid()) {
            throw ApiProblem.invalid("bridge", bridge.error());
        }
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        List<CallCommand> commands = new ArrayList<>();
        List<SendResponse.Row> rows = new ArrayList<>();
        List<FieldError> rejected = new ArrayList<>();
        for (int i = 0; i < request.to().size(); i++) {
            String raw = request.to().get(i);
            PhoneNumbers.Result to = PhoneNumbers.normalize(raw, account.defaultRegion());
            String id = UUID.randomUUID().toString();
            if (!to.valid()) {
                String field = request.to().size() == 1 ? "to" : "to[" + i + "]";
                rejected.add(new FieldError(field, to.error()));
                rows.add(row(id, bridge, raw, request, now, "rejected", field + " " + to.error()));
                continue;
            }
            commands.add(command(id, account, bridge, to, request, now));
            rows.add(row(id, bridge, to.digits(), request, now, "queued", null));
        }
        if (commands.isEmpty()) {
            throw ApiProblem.invalid(rejected);
        }
        return new Plan(commands, new SendResponse("OK", "Calls queued successfully", rows));
    }

    private static CallCommand command(String id, Account account, PhoneNumbers.Result bridge, PhoneNumbers.Result to,
                                       SendRequest request, Instant now) {
        return new CallCommand(CallCommand.VERSION, id, account.id(), bridge.e164(), to.e164(), request.flowId(),
                request.audio(), request.campaign(), request.interval(), CallCommand.DEFAULT_MAX_ATTEMPTS, 1,
                request.webhookId(), request.foreignId(), request.variables(), null, null, null, null, null, now);
    }

    private static SendResponse.Row row(String id, PhoneNumbers.Result bridge, String mobile, SendRequest request,
                                        Instant now, String status, String error) {
        return new SendResponse.Row(id, "outgoing", bridge.digits(), mobile, request.flowId(),
                "queued".equals(status) ? 1 : 0, now.toString(), request.foreignId(), null, status, error);
    }

    private Mono<Void> produce(Plan plan) {
        List<OutboundRecord> records = plan.commands().stream()
                .map(c -> OutboundRecord.of(Topics.CALL_COMMANDS, c.callerId(), Contract.toBytes(c)))
                .toList();
        Timer.Sample sample = Timer.start();
        return publisher.publishAll(records)
                .timeout(ackTimeout, Schedulers.parallel())
                .doOnSuccess(ok -> {
                    sample.stop(produceLatency);
                    meters.counter("dialer.api.commands.produced").increment(records.size());
                    meters.counter("dialer.api.recipients.accepted").increment(records.size());
                })
                .onErrorMap(e -> {
                    log.warn("Kafka did not acknowledge {} commands: {}", records.size(), e.toString());
                    return ApiProblem.unavailable(e instanceof TimeoutException
                            ? "Kafka did not acknowledge the calls in time; nothing is guaranteed queued, retry"
                            : "Kafka refused the calls; retry", RETRY_AFTER);
                });
    }
}
