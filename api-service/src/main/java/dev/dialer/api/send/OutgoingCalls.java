package dev.dialer.api.send;

import dev.dialer.api.account.Account;
import dev.dialer.api.calls.AcceptedCalls;
import dev.dialer.api.calls.CallLedger;
import dev.dialer.api.calls.UnrecordedCalls;
import dev.dialer.api.idempotency.IdempotencyKey;
import dev.dialer.api.idempotency.RequestIds;
import dev.dialer.api.ids.TimeOrderedUuids;
import dev.dialer.api.settings.AccountSettingsLookup;
import dev.dialer.api.settings.AccountSettingsStore;
import dev.dialer.common.contract.AccountSettings;
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
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Turns an {@code outgoing/send} request into one {@link CallCommand} per valid recipient on
 * {@code dialer.call.commands}, keyed by the caller ID, and answers in the {@code outgoing/send} document's shape.
 * Numbers are read in the account's region (its settings', else the account's); a {@code bridge} outside a non-empty
 * list of allowed caller IDs is a 403; a recipient whose {@code foreign_id} and number an earlier request of the
 * account already used is answered {@code duplicate} with that request's id and not queued again, and so is a callee
 * the request listed before, with the id its first listing got (decision 0121).
 */
@Service
class OutgoingCalls {

    static final String DUPLICATE = "duplicate";
    /** Bodies up to this many characters (a few recipients) are parsed on the thread that read them. */
    static final int INLINE_PARSE_CHARS = 2048;
    private static final Logger log = LoggerFactory.getLogger(OutgoingCalls.class);
    private static final DateTimeFormatter CREATED_AT = new DateTimeFormatterBuilder().appendInstant(6).toFormatter();

    private final AcknowledgedPublisher publisher;
    private final WebhookDirectory webhooks;
    private final AccountSettingsLookup settings;
    private final ForeignIdClaims foreignIds;
    private final AcceptedCalls ledger;
    private final Counter recipientsAccepted;
    private final Counter commandsProduced;
    private final Counter duplicates;
    private final Counter forbiddenCallerIds;
    private final Counter forbiddenFlows;
    private final UnrecordedCalls unrecorded;
    private final Counter producedUnconfirmed;
    private final int maxRecipients;

    OutgoingCalls(AcknowledgedPublisher publisher, WebhookDirectory webhooks, AccountSettingsLookup settings,
                  ForeignIdClaims foreignIds, AcceptedCalls ledger, MeterRegistry registry, SendProperties properties) {
        this.maxRecipients = properties.maxRecipients();
        this.publisher = publisher;
        this.webhooks = webhooks;
        this.settings = settings;
        this.foreignIds = foreignIds;
        this.ledger = ledger;
        this.recipientsAccepted = Counter.builder("dialer.api.recipients.accepted")
                .description("Recipients queued as call commands").register(registry);
        this.commandsProduced = Counter.builder("dialer.api.commands.produced")
                .description("Call commands acknowledged by Kafka").register(registry);
        this.duplicates = Counter.builder("dialer.api.recipients.duplicate")
                .description("Recipients not queued because their foreign_id and number were already used, or "
                        + "their number was listed before in the request")
                .register(registry);
        this.forbiddenCallerIds = Counter.builder("dialer.api.caller_id.forbidden")
                .description("Send requests refused because the caller ID is not allowed for the account")
                .tag("dialect", "outgoing-send").register(registry);
        this.forbiddenFlows = Counter.builder("dialer.api.flow.forbidden")
                .description("Send requests refused because the flow is not allowed for the account")
                .tag("dialect", "outgoing-send").register(registry);
        this.unrecorded = new UnrecordedCalls(registry);
        this.producedUnconfirmed = Counter.builder("dialer.api.produced_unconfirmed")
                .description("Requests answered 503 after Kafka had their records (their state did not commit)")
                .tag("stage", "foreign_ids").register(registry);
    }

    /**
     * At-least-once: answers only after Kafka acknowledged every command (acks=all); a 503 when it did not, after
     * which some commands may still have been stored (without an {@code Idempotency-Key}, a retry can then queue a
     * call twice, except to a recipient with a {@code foreign_id}, whose id is always derived from it).
     */
    Mono<SendResponse> queue(Account account, String body) {
        return queue(account, body, null);
    }

    /**
     * As {@link #queue(Account, String)}; with an {@code Idempotency-Key} the ids of recipients without a
     * {@code foreign_id} are made from the key's claim ({@link IdempotencyKey#callId}: its send id with each
     * recipient's index), so repeating the request within the key's life can never create a second call.
     */
    Mono<SendResponse> queue(Account account, String body, IdempotencyKey idempotencyKey) {
        return queue(account, body, StandardCharsets.UTF_8, idempotencyKey);
    }

    /**
     * As {@link #queue(Account, String, IdempotencyKey)}, for a body whose Content-Type names {@code charset} (the
     * charset of a form's percent-encoded values).
     */
    Mono<SendResponse> queue(Account account, String body, Charset charset, IdempotencyKey idempotencyKey) {
        return settings.of(account.id())
                .flatMap(accountSettings -> parse(account, accountSettings, body, charset))
                .flatMap(request -> checkWebhook(account, request))
                .flatMap(request -> publish(account, request, idempotencyKey));
    }

    /** Parses in the account's region and checks the caller ID against its allowed list. */
    Mono<SendRequest> parse(Account account, AccountSettings accountSettings, String body, Charset charset) {
        String region = AccountSettingsStore.regionOf(account, accountSettings);
        Mono<SendRequest> parsed = Mono.fromCallable(() -> SendRequestParser.parse(body, charset, region,
                maxRecipients));
        // Normalising a long recipient list is CPU work: keep it off the event loop serving connections. A body of a
        // few recipients takes microseconds, less than the hop to another thread would cost it in latency.
        return (body.length() > INLINE_PARSE_CHARS ? parsed.subscribeOn(Schedulers.parallel()) : parsed)
                .map(request -> allowedFlow(accountSettings, allowedCallerId(accountSettings, request)));
    }

    private SendRequest allowedCallerId(AccountSettings accountSettings, SendRequest request) {
        if (!accountSettings.allowsCallerId(request.callerId())) {
            forbiddenCallerIds.increment();
            throw Problems.forbidden("bridge", "is not one of this account's allowed caller IDs");
        }
        return request;
    }

    private SendRequest allowedFlow(AccountSettings accountSettings, SendRequest request) {
        if (!accountSettings.allowsFlow(request.flowId())) {
            forbiddenFlows.increment();
            throw Problems.forbidden("flow_id", "is not one of this account's allowed flows");
        }
        return request;
    }

    private Mono<SendRequest> checkWebhook(Account account, SendRequest request) {
        return checkWebhook(webhooks, account, request);
    }

    /**
     * The request, or a 400 naming {@code webhook_id} when it names no webhook of the account: what a send answers,
     * and so what its preview answers.
     */
    static Mono<SendRequest> checkWebhook(WebhookDirectory webhooks, Account account, SendRequest request) {
        if (request.webhookId() == null) {
            return Mono.just(request);
        }
        return webhooks.belongsTo(request.webhookId(), account.id())
                .flatMap(found -> found ? Mono.just(request)
                        : Mono.error(Problems.validation("webhook_id", "does not name a webhook of this account")));
    }

    /**
     * One recipient's fate: a command to produce, a duplicate of an earlier call (another request's, or this one's
     * for a callee it listed before), or nothing (invalid).
     *
     * @param keyCallId the id the request's {@code Idempotency-Key} derives for this recipient (null without a key):
     *                  what a later try of the same keyed request knows its own {@code foreign_id} claim by
     */
    private record Planned(SendRequest.Recipient recipient, CallCommand command, String duplicateOf,
                           String keyCallId) {

        Planned(SendRequest.Recipient recipient, String duplicateOf) {
            this(recipient, null, duplicateOf, null);
        }
    }

    private Mono<SendResponse> publish(Account account, SendRequest request, IdempotencyKey idempotencyKey) {
        // The same instant goes to Kafka and to the client, and to every try under the request's key.
        Instant now = IdempotencyKey.acceptedAt(idempotencyKey);
        UUID send = idempotencyKey == null ? TimeOrderedUuids.send() : idempotencyKey.send();
        List<Planned> planned = plan(account, request, now, idempotencyKey, send);
        List<ForeignIdClaims.Claim> claims = planned.stream().filter(p -> p.command() != null)
                .filter(p -> p.command().foreignId() != null)
                .map(p -> new ForeignIdClaims.Claim(p.command().foreignId(), p.command().to(), p.command().requestId(),
                        p.keyCallId()))
                .toList();
        if (claims.isEmpty()) {
            return produce(account, commandsOf(planned), idempotencyKey != null)
                    .then(recordQueued(account, request, planned, send, now))
                    .then(Mono.fromSupplier(() -> accepted(request, planned, now)));
        }
        // The claims commit with the acknowledgement, or not at all.
        return Mono.defer(() -> {
            AtomicBoolean produced = new AtomicBoolean();
            return foreignIds.claimThen(account.id(), claims, owners -> {
                        List<Planned> fates = withDuplicates(planned, owners);
                        return ledger.recordAccepted(account.id(), accepted(commandsOf(fates)), now)
                                .then(produce(account, commandsOf(fates), idempotencyKey != null))
                                .then(Mono.fromRunnable(() -> produced.set(true)))
                                .thenReturn(fates);
                    })
                    .onErrorMap(error -> produced.get(), error -> unconfirmed(account, idempotencyKey != null, error))
                    .map(fates -> accepted(request, fates, now));
        });
    }

    /**
     * Kafka has the commands but the claims did not commit: the client must not read "failed, safe to retry" into
     * that, so it is the ambiguous 503 of a late acknowledgement, whose retry under the same key (or with the same
     * {@code foreign_id}s, whose ids are derived) places each call once.
     */
    private Throwable unconfirmed(Account account, boolean keyed, Throwable error) {
        producedUnconfirmed.increment();
        log.warn("commands of account {} are in Kafka but the send failed after producing them; answering 503",
                account.id(), error);
        return keyed ? Problems.unconfirmed(publisher.retryAfter(), error)
                : Problems.unconfirmedWithoutKey(publisher.retryAfter(), error);
    }

    private Mono<Void> produce(Account account, List<CallCommand> commands, boolean keyed) {
        return publisher.publishSend(commands.stream().map(OutgoingCalls::record).toList(), keyed, account.id());
    }

    /**
     * Records the accepted calls as {@code queued} after the acknowledgement, in a statement shared with the sends
     * accepted meanwhile: as one row for the send when its calls' ids were made from it ({@code send} not null, decision
     * 0086), else a row per call. If that fails the calls are queued all the same (Kafka has them): the answer stays
     * 200 and the read model learns them from their first event.
     */
    private Mono<Void> recordQueued(Account account, SendRequest request, List<Planned> planned, UUID send,
                                    Instant now) {
        List<CallCommand> commands = commandsOf(planned);
        if (commands.isEmpty()) {
            return Mono.empty();
        }
        Mono<Void> record;
        if (send != null) {
            List<String> callees = new ArrayList<>(planned.size());
            planned.forEach(p -> callees.add(p.command() == null ? null : p.command().to()));
            record = ledger.recordSent(account.id(), new AcceptedCalls.Send(send, request.callerId(),
                    request.campaign(), commands.get(0).allowedAttempts(), now, callees));
        } else {
            record = ledger.recordAcceptedShared(account.id(), accepted(commands), now);
        }
        return unrecorded.tolerated(record, account.id(), commands.size());
    }

    private static List<CallLedger.Accepted> accepted(List<CallCommand> commands) {
        return commands.stream().map(c -> new CallLedger.Accepted(c.requestId(), c.callerId(), c.to(), c.campaign(),
                c.foreignId(), c.allowedAttempts())).toList();
    }

    /**
     * A recipient with a {@code foreign_id} is queued when its claim is this request's own: made by this request, or,
     * under an {@code Idempotency-Key}, made by an earlier try of the same request (the claim holds the id the key
     * derives for the recipient; the dispatcher then sees the call's command twice and dials it once). Any other owner
     * makes it a duplicate of that owner's call: its id is derived from the {@code foreign_id} and number, as every
     * request's is, so equal ids alone do not make a claim this request's. A callee listed again in the request
     * ({@link #plan}) is a duplicate of whatever its first listing turned out to be: its call, or the earlier call
     * that listing is a duplicate of.
     */
    private List<Planned> withDuplicates(List<Planned> planned, Map<String, ForeignIdClaims.Owner> owners) {
        List<Planned> fates = new ArrayList<>(planned.size());
        Map<String, String> earlierCalls = new HashMap<>();
        for (Planned p : planned) {
            CallCommand command = p.command();
            if (command == null) {
                String first = p.duplicateOf() == null ? null : earlierCalls.get(p.duplicateOf());
                fates.add(first == null ? p : new Planned(p.recipient(), first));
                continue;
            }
            ForeignIdClaims.Owner owner = command.foreignId() == null ? null
                    : owners.get(ForeignIdClaims.Claim.key(command.foreignId(), command.to()));
            boolean own = owner == null || owner.claimedNow()
                    || (p.keyCallId() != null && p.keyCallId().equals(owner.keyCallId()));
            if (own) {
                fates.add(p);
            } else {
                earlierCalls.put(command.requestId(), owner.requestId());
                fates.add(new Planned(p.recipient(), owner.requestId()));
            }
        }
        return fates;
    }

    private static List<CallCommand> commandsOf(List<Planned> planned) {
        return planned.stream().map(Planned::command).filter(Objects::nonNull).toList();
    }

    private SendResponse accepted(SendRequest request, List<Planned> fates, Instant now) {
        int queued = commandsOf(fates).size();
        recipientsAccepted.increment(queued);
        commandsProduced.increment(queued);
        duplicates.increment(fates.stream().filter(p -> p.duplicateOf() != null).count());
        return SendResponse.of(rows(request, fates, now));
    }

    /**
     * One command per callee: a callee the request lists again (another spelling of the same number, or the same one)
     * is a duplicate of its first listing's call, not a second call seconds after the first. Its index still counts
     * for the ids of the recipients after it, so a retry under an {@code Idempotency-Key} reproduces them.
     *
     * @param send the send id the calls' ids are made from (for a recipient without {@code foreign_id}): drawn for
     *             this request, or its {@code Idempotency-Key}'s; null for a key claimed before decision 0086, whose ids
     *             the key derives otherwise
     */
    private static List<Planned> plan(Account account, SendRequest request, Instant now,
                                      IdempotencyKey idempotencyKey, UUID send) {
        List<SendRequest.Recipient> recipients = request.recipients();
        List<Planned> planned = new ArrayList<>(recipients.size());
        Map<String, String> firstCalls = new HashMap<>();
        for (int index = 0; index < recipients.size(); index++) {
            SendRequest.Recipient recipient = recipients.get(index);
            if (!recipient.valid()) {
                planned.add(new Planned(recipient, null));
                continue;
            }
            String first = firstCalls.get(recipient.e164());
            if (first != null) {
                planned.add(new Planned(recipient, first));
                continue;
            }
            String keyCallId = idempotencyKey == null ? null : idempotencyKey.callId(account.id(), index);
            CallCommand command = new CallCommand(CallCommand.VERSION,
                    requestId(account, request, recipient, keyCallId, send, index),
                    account.id(), request.callerId(), recipient.e164(), request.flowId(), request.audio(),
                    request.campaign(), request.intervalMinutes(), request.maxAttempts(), 1,
                    request.webhookId(), request.foreignIdOf(recipient), request.variables(),
                    request.validUntil(), request.priority(), null, null, null, now);
            firstCalls.put(recipient.e164(), command.requestId());
            planned.add(new Planned(recipient, command, null, keyCallId));
        }
        return planned;
    }

    /**
     * The recipient's call id: derived from its {@code foreign_id} and number when it has a {@code foreign_id},
     * whether the request has an {@code Idempotency-Key} or not, so that every try to place that call carries one id
     * and the dispatcher dials it once, however the client retries (the same key, another key, none: a 503 leaves no
     * {@code foreign_id} claim behind, so the retry claims it afresh); else derived from the key when there is one
     * (its claim's send id with the recipient's index); else the request's own send id with the recipient's index
     * (time-ordered, random: a retry after an ambiguous 503 may call twice).
     */
    private static String requestId(Account account, SendRequest request, SendRequest.Recipient recipient,
                                    String keyCallId, UUID send, int index) {
        String foreignId = request.foreignIdOf(recipient);
        if (foreignId != null) {
            return RequestIds.ofForeignId(account.id(), foreignId, recipient.e164());
        }
        return keyCallId != null ? keyCallId : TimeOrderedUuids.ofRecipient(send, index).toString();
    }

    private static OutboundRecord record(CallCommand command) {
        return OutboundRecord.of(Topics.CALL_COMMANDS, command.callerId(), Contract.toBytes(command));
    }

    /**
     * The send API's {@code created_at}, {@code 2024-07-10T06:09:43.054164Z}: always six fraction digits. ISO_INSTANT
     * writes only as many groups of three as are not zero ({@code …43.054Z}, {@code …43Z}), which a client parsing
     * the documented format (or comparing the text) would trip on once in a thousand answers.
     */
    static String createdAt(Instant now) {
        return CREATED_AT.format(now);
    }

    /** One row per recipient in request order. */
    private static List<SendResponse.Row> rows(SendRequest request, List<Planned> fates, Instant now) {
        String createdAt = createdAt(now);
        String callerId = digits(request.callerId());
        List<SendResponse.Row> rows = new ArrayList<>(fates.size());
        for (Planned fate : fates) {
            SendRequest.Recipient recipient = fate.recipient();
            String foreignId = request.foreignIdOf(recipient);
            if (fate.command() != null) {
                rows.add(new SendResponse.Row(fate.command().requestId(), SendResponse.Row.CHANNEL, callerId,
                        digits(fate.command().to()), request.flowId(), 1, createdAt, foreignId, null,
                        SendResponse.Row.QUEUED, null));
            } else if (fate.duplicateOf() != null) {
                rows.add(new SendResponse.Row(fate.duplicateOf(), SendResponse.Row.CHANNEL, callerId,
                        digits(recipient.e164()), request.flowId(), 0, createdAt, foreignId, null, DUPLICATE, null));
            } else {
                rows.add(new SendResponse.Row(null, SendResponse.Row.CHANNEL, callerId, recipient.raw(),
                        request.flowId(), 0, createdAt, foreignId, null, SendResponse.Row.REJECTED,
                        new FieldProblem(recipient.field(), recipient.error())));
            }
        }
        return rows;
    }

    private static String digits(String e164) {
        return Objects.requireNonNull(e164).substring(1);
    }
}
