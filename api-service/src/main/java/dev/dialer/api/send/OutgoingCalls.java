package dev.dialer.api.send;

import dev.dialer.api.account.Account;
import dev.dialer.api.kafka.AcknowledgedPublisher;
import dev.dialer.api.problem.FieldProblem;
import dev.dialer.api.problem.Problems;
import dev.dialer.api.webhook.WebhookDirectory;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Turns a seed send request into one {@link CallCommand} per valid recipient on {@code dialer.call.commands}, keyed
 * by the caller ID, and answers in the seed's shape.
 */
@Service
class OutgoingCalls {

    private final AcknowledgedPublisher publisher;
    private final WebhookDirectory webhooks;
    private final Counter recipientsAccepted;
    private final Counter commandsProduced;

    OutgoingCalls(AcknowledgedPublisher publisher, WebhookDirectory webhooks, MeterRegistry registry) {
        this.publisher = publisher;
        this.webhooks = webhooks;
        this.recipientsAccepted = Counter.builder("dialer.api.recipients.accepted")
                .description("Recipients queued as call commands").register(registry);
        this.commandsProduced = Counter.builder("dialer.api.commands.produced")
                .description("Call commands acknowledged by Kafka").register(registry);
    }

    /**
     * At-least-once: answers only after Kafka acknowledged every command (acks=all); a 503 when it did not, after
     * which some commands may still have been stored (without an {@code Idempotency-Key}, a retry can then queue a
     * call twice).
     */
    Mono<SendResponse> queue(Account account, String body) {
        return queue(account, body, null);
    }

    /**
     * As {@link #queue(Account, String)}; with an {@code Idempotency-Key} the request ids are name-based on the key
     * ({@link RequestIds}), so repeating the request can never create a second call.
     */
    Mono<SendResponse> queue(Account account, String body, String idempotencyKey) {
        return Mono.fromCallable(() -> SendRequestParser.parse(body, account.defaultRegion()))
                // Normalising a long recipient list is CPU work: keep it off the event loop serving connections.
                .subscribeOn(Schedulers.parallel())
                .flatMap(request -> checkWebhook(account, request))
                .flatMap(request -> publish(account, request, idempotencyKey));
    }

    private Mono<SendRequest> checkWebhook(Account account, SendRequest request) {
        if (request.webhookId() == null) {
            return Mono.just(request);
        }
        return webhooks.belongsTo(request.webhookId(), account.id())
                .flatMap(found -> found ? Mono.just(request)
                        : Mono.error(Problems.validation("webhook_id", "does not name a webhook of this account")));
    }

    private Mono<SendResponse> publish(Account account, SendRequest request, String idempotencyKey) {
        // PostgreSQL and the seed both write microseconds: the same instant goes to Kafka and to the client.
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        List<CallCommand> commands = commands(account, request, now, idempotencyKey);
        List<OutboundRecord> records = commands.stream().map(OutgoingCalls::record).toList();
        return publisher.publishAll(records)
                .then(Mono.fromSupplier(() -> accepted(request, commands, now)));
    }

    private SendResponse accepted(SendRequest request, List<CallCommand> commands, Instant now) {
        recipientsAccepted.increment(commands.size());
        commandsProduced.increment(commands.size());
        return SendResponse.of(rows(request, commands, now));
    }

    private static List<CallCommand> commands(Account account, SendRequest request, Instant now,
                                              String idempotencyKey) {
        List<SendRequest.Recipient> recipients = request.recipients();
        return java.util.stream.IntStream.range(0, recipients.size())
                .filter(index -> recipients.get(index).valid())
                .mapToObj(index -> new CallCommand(CallCommand.VERSION,
                        idempotencyKey == null ? UUID.randomUUID().toString()
                                : RequestIds.of(account.id(), idempotencyKey, index),
                        account.id(),
                        request.callerId(), recipients.get(index).e164(), request.flowId(), request.audio(), request.campaign(),
                        request.intervalMinutes(), CallCommand.DEFAULT_MAX_ATTEMPTS, 1, request.webhookId(),
                        request.foreignId(), request.variables(), null, null, null, null, null, now))
                .toList();
    }

    private static OutboundRecord record(CallCommand command) {
        return OutboundRecord.of(Topics.CALL_COMMANDS, command.callerId(), Contract.toBytes(command));
    }

    /** One row per recipient in request order: valid ones take the commands' ids in turn. */
    private static List<SendResponse.Row> rows(SendRequest request, List<CallCommand> commands, Instant now) {
        String createdAt = DateTimeFormatter.ISO_INSTANT.format(now);
        String callerId = digits(request.callerId());
        List<SendResponse.Row> rows = new ArrayList<>(request.recipients().size());
        int next = 0;
        for (SendRequest.Recipient recipient : request.recipients()) {
            if (recipient.valid()) {
                CallCommand command = commands.get(next++);
                rows.add(new SendResponse.Row(command.requestId(), SendResponse.Row.CHANNEL, callerId,
                        digits(command.to()), request.flowId(), 1, createdAt, request.foreignId(), null,
                        SendResponse.Row.QUEUED, null));
            } else {
                rows.add(new SendResponse.Row(null, SendResponse.Row.CHANNEL, callerId, recipient.raw(),
                        request.flowId(), 0, createdAt, request.foreignId(), null, SendResponse.Row.REJECTED,
                        new FieldProblem(recipient.field(), recipient.error())));
            }
        }
        return rows;
    }

    private static String digits(String e164) {
        return Objects.requireNonNull(e164).substring(1);
    }
}
