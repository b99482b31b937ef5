package dev.dialer.api.kafka;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.Problems;
import dev.dialer.api.trace.TraceContext;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * The API's one way into Kafka: publishes a request's records pipelined and completes only when the broker has
 * acknowledged every one of them ({@code acks=all}), within the configured time. Anything else becomes a 503
 * problem with {@code Retry-After}, so the caller never answers 2xx for a record Kafka does not have.
 */
public class AcknowledgedPublisher {

    private static final Logger log = LoggerFactory.getLogger(AcknowledgedPublisher.class);
    private static final String RETRY_WITH_THE_KEY = "Retry with the same Idempotency-Key, which makes the repeat "
            + "safe; a send repeated without one queues again every recipient that has no foreign_id.";

    /**
     * What a send without an {@code Idempotency-Key} is told when Kafka may have its records: not to retry with a key
     * (a new key is a new send, whose calls get new ids), and what a plain retry would do.
     */
    static final String SENT_WITHOUT_KEY = "It may still take effect. The request had no Idempotency-Key, so no "
            + "retry of it is known to be safe (one with a new key is a new request): a retry places each recipient "
            + "with a foreign_id once but queues the others again. " + Problems.NOT_LISTED_YET;

    /** {@code dialer.api.kafka.max-bytes-in-flight}'s default. */
    static final long DEFAULT_MAX_BYTES_IN_FLIGHT = 64L << 20;
    public static final String BUDGET_SPENT = "The service holds as many records as it takes while Kafka acknowledges "
            + "them; nothing of this request was queued. Retry later.";
    /**
     * The percentage of the budget every account's sends may hold together: the rest stays for the requests that are
     * not sends (cancels, DNC and settings changes, pauses), which must get through while sends fill the budget.
     */
    static final int SENDS_SHARE = 75;
    /** The key of the Reactor context entry that names the account a send's records count against. */
    private static final String ACCOUNT = AcknowledgedPublisher.class.getName() + ".account";
    public static final String SHARE_SPENT = "This account's sends hold their share of the records the service takes "
            + "while Kafka acknowledges them; nothing of this request was queued. Retry later.";

    private final KafkaPublisher publisher;
    private final Duration ackTimeout;
    private final Duration retryAfter;
    private final long maxBytesInFlight;
    private final long maxBytesPerAccount;
    private final AtomicLong bytesInFlight = new AtomicLong();
    /** Bytes each account's sends hold now (guarded by {@code this}); an account holding none has no entry. */
    private final Map<String, Long> accountBytes = new HashMap<>();
    /** Bytes every account's sends hold now together (guarded by {@code this}). */
    private long sendBytes;
    private final Timer acknowledged;
    private final Timer failed;
    private final Counter refused;
    private final Counter refusedShare;

    public AcknowledgedPublisher(KafkaPublisher publisher, Duration ackTimeout, Duration retryAfter,
                                 MeterRegistry registry) {
        this(publisher, ackTimeout, retryAfter, DEFAULT_MAX_BYTES_IN_FLIGHT, DEFAULT_MAX_BYTES_IN_FLIGHT / 2,
                registry);
    }

    /**
     * @param maxBytesInFlight the records' bytes held, across requests, while they wait for Kafka's acknowledgement:
     *                         a request that would take more is answered 503 at once, nothing of it published (one
     *                         is let through whatever its size when nothing else waits). A send's commands each carry
     *                         its variables, so a thousand recipients with 16 KB of them hold 16 MB for up to
     *                         {@code ackTimeout}; without a bound, a slow broker or a burst of such sends would take
     *                         the heap, and every account's requests with it.
     * @param maxBytesPerAccount what one account's sends may hold of it at once ({@link #publishSend}): past it that
     *                         account's next send is answered 503 at once (one is let through whatever its size when
     *                         the account holds nothing), so that one account's large sends cannot take the whole
     *                         budget while the others' are refused
     */
    public AcknowledgedPublisher(KafkaPublisher publisher, Duration ackTimeout, Duration retryAfter,
                                 long maxBytesInFlight, long maxBytesPerAccount, MeterRegistry registry) {
        this.publisher = publisher;
        this.ackTimeout = ackTimeout;
        this.retryAfter = retryAfter;
        this.maxBytesInFlight = maxBytesInFlight;
        this.maxBytesPerAccount = maxBytesPerAccount;
        this.acknowledged = latency(registry, "acknowledged");
        this.failed = latency(registry, "failed");
        Gauge.builder("dialer.api.produce.bytes.in.flight", bytesInFlight, AtomicLong::get).baseUnit("bytes")
                .description("Bytes of records waiting for Kafka's acknowledgement").register(registry);
        this.refused = refusedCounter(registry, "budget");
        this.refusedShare = refusedCounter(registry, "account_share");
    }

    /**
     * At-least-once toward Kafka: completes after every record is acknowledged; errors with a 503 {@code ApiProblem}
     * when one is not within the ack timeout. After such an error some records may still be stored.
     */
    public Mono<Void> publishAll(List<OutboundRecord> records) {
        return publishAll(records, null);
    }

    /**
     * As {@link #publishAll(List)}, for a send's commands, which hold at most {@code maxBytesPerAccount} of the budget
     * with the other sends of {@code account} waiting for Kafka: a send without an {@code Idempotency-Key}
     * ({@code keyed} false) is told in its 503 that no retry of it is known to be safe ({@link #SENT_WITHOUT_KEY}), not
     * to retry with the key it does not have, which a client might read as "add one".
     */
    public Mono<Void> publishSend(List<OutboundRecord> records, boolean keyed, String account) {
        return publishAll(records, keyed ? null : SENT_WITHOUT_KEY).contextWrite(Context.of(ACCOUNT, account));
    }

    /**
     * As {@link #publishAll(List)}, for a request that is no send and takes no {@code Idempotency-Key}: its 503 says
     * why Kafka did not have the records, then {@code outcome}, what became of the request and how to retry it
     * (the caller knows: a change undone, a cancel kept…).
     */
    public Mono<Void> publishAll(List<OutboundRecord> records, String outcome) {
        if (records.isEmpty()) {
            // A send whose every recipient was refused or is a duplicate: nothing to wait for, nothing to refuse.
            return Mono.empty();
        }
        return Mono.deferContextual(context -> {
            // A send's account (publishSend), whose share the bytes count against too.
            String account = context.getOrDefault(ACCOUNT, null);
            long bytes = bytesOf(records);
            Refusal refusal = admit(bytes, account);
            if (refusal != null) {
                return Mono.error(refused(refusal, bytes, account));
            }
            long started = System.nanoTime();
            return Mono.fromFuture(sending(traced(records, context), bytes, account), true)
                    .timeout(ackTimeout)
                    .doOnSuccess(done -> record(acknowledged, started))
                    .doOnError(error -> record(failed, started))
                    .onErrorMap(error -> outcome == null || refusedWhole(outcome, error, records.size())
                            ? unavailable(error, records.size()) : unavailable(error, records.size(), outcome));
        });
    }

    /**
     * Sends the records on a subscription of their own, their {@code bytes} held until the producer is done with them
     * (acknowledged, or given up at its delivery timeout): the caller's wait ends sooner (its ack timeout, the client
     * gone), and the records it handed over stay in the producer's buffer meanwhile. Given back when the wait ended,
     * their bytes would let other requests fill that buffer past the budget, and the producer would then block every
     * request of the instance (up to {@code max.block.ms}) rather than refuse the one too many at once. The records not
     * yet handed over when the caller stops waiting are sent all the same: a request in doubt is in doubt whichever of
     * its records Kafka has.
     */
    private CompletableFuture<Void> sending(List<OutboundRecord> records, long bytes, String account) {
        return publisher.publishAll(records)
                .doFinally(signal -> release(bytes, account))
                .toFuture();
    }

    /**
     * A send without a key whose one record Kafka refused: nothing of it was queued, so it is told so (and to retry
     * later), not that it may still take effect.
     */
    static boolean refusedWhole(String outcome, Throwable error, int records) {
        return SENT_WITHOUT_KEY.equals(outcome) && records == 1 && !late(error);
    }

    /** Whether the error is a time-out: the reactive one here, or the producer's own delivery time-out. */
    private static boolean late(Throwable error) {
        return error instanceof TimeoutException || error instanceof org.apache.kafka.common.errors.TimeoutException;
    }

    private static long bytesOf(List<OutboundRecord> records) {
        long bytes = 0;
        for (OutboundRecord record : records) {
            bytes += (record.value() == null ? 0 : record.value().length)
                    + (record.key() == null ? 0 : record.key().length());
        }
        return bytes;
    }

    /** Why a request's records were refused at once. */
    private enum Refusal {
        BUDGET, SENDS, SHARE
    }

    /** Counts and logs a refusal at once, and the 503 that answers it. */
    private ApiProblem refused(Refusal refusal, long bytes, String account) {
        switch (refusal) {
            case BUDGET -> log.warn("answering 503: {} bytes of records would exceed the {} waiting for Kafka", bytes,
                    maxBytesInFlight);
            case SENDS -> log.warn("answering 503 to account {}: {} bytes of records would take every account's "
                    + "sends past their {} % of the {} waiting for Kafka", account, bytes, SENDS_SHARE,
                    maxBytesInFlight);
            case SHARE -> log.warn("answering 503 to account {}: {} bytes of records would exceed its share, {} of "
                    + "the {} waiting for Kafka", account, bytes, maxBytesPerAccount, maxBytesInFlight);
        }
        (refusal == Refusal.SHARE ? refusedShare : refused).increment();
        return Problems.unavailable(refusal == Refusal.SHARE ? SHARE_SPENT : BUDGET_SPENT, retryAfter, null);
    }

    /**
     * Takes {@code bytes} of the budget if they fit, or if nothing else waits (a request larger than it); for a send
     * ({@code account} not null), of {@link #SENDS_SHARE} of it for every account's sends together and of
     * {@code account}'s share likewise, so that sends never leave cancels, DNC changes and the other controls without
     * room.
     *
     * @return null when taken; else why not
     */
    private synchronized Refusal admit(long bytes, String account) {
        long held = bytesInFlight.get();
        if (held > 0 && held + bytes > maxBytesInFlight) {
            return Refusal.BUDGET;
        }
        if (account != null) {
            if (sendBytes > 0 && sendBytes + bytes > maxBytesInFlight / 100 * SENDS_SHARE) {
                return Refusal.SENDS;
            }
            long own = accountBytes.getOrDefault(account, 0L);
            if (own > 0 && own + bytes > maxBytesPerAccount) {
                return Refusal.SHARE;
            }
            accountBytes.put(account, own + bytes);
            sendBytes += bytes;
        }
        bytesInFlight.addAndGet(bytes);
        return null;
    }

    private synchronized void release(long bytes, String account) {
        bytesInFlight.addAndGet(-bytes);
        if (account != null) {
            sendBytes -= bytes;
            accountBytes.computeIfPresent(account, (key, own) -> own - bytes > 0 ? own - bytes : null);
        }
    }

    /**
     * Whether {@code error} is this publisher's refusal made before anything of its request was handed to Kafka: the
     * budget, the sends' part of it or the account's share of it full. The request queued nothing; an earlier try of
     * it under the same key may have.
     */
    public static boolean refusedAtOnce(Throwable error) {
        if (!(error instanceof ApiProblem problem)) {
            return false;
        }
        String detail = problem.getBody().getDetail();
        return BUDGET_SPENT.equals(detail) || SHARE_SPENT.equals(detail);
    }

    /** The longest a record handed to the producer may still take to land ({@link KafkaPublisher#longestLanding}). */
    public Duration longestLanding() {
        return publisher.longestLanding();
    }

    /**
     * Hands {@code records} to the producer without waiting for them: nothing cancels their sending (a reactive
     * timeout cancelling a send before the producer took its record drops the record); the producer's own delivery
     * timeout bounds it. {@code stored} hears that the broker acknowledged them all, {@code failed} of a record the
     * producer gave up.
     */
    public void sendUnwaited(List<OutboundRecord> records, Runnable stored, Consumer<Throwable> failed) {
        publisher.publishAll(records).subscribe(done -> { }, failed, stored);
    }

    /** The records with the request's {@code traceparent} ({@link TraceContext}), when they are sent serving one. */
    private static List<OutboundRecord> traced(List<OutboundRecord> records, ContextView context) {
        return TraceContext.of(context)
                .map(traceparent -> records.stream().map(record -> {
                    Map<String, String> headers = new HashMap<>(record.headers());
                    headers.put(TraceContext.HEADER, traceparent);
                    return new OutboundRecord(record.topic(), record.key(), record.value(), headers, record.carried());
                }).toList())
                .orElse(records);
    }

    /** How long a client is told to wait before retrying a request whose records Kafka may not have. */
    public Duration retryAfter() {
        return retryAfter;
    }

    /**
     * A late acknowledgement says nothing about the records: the producer goes on sending them, so they may well be
     * stored, and the answer must not tell the client that a plain retry is harmless (for a send, it would call the
     * recipients twice). Both time-outs count: the reactive one here and the producer's own delivery time-out. A
     * refusal is told as soon as the first refused record is, while the request's other records may be stored or
     * still on their way: only a request of one record was refused whole.
     */
    Throwable unavailable(Throwable error, int records) {
        if (late(error)) {
            log.warn("answering 503: Kafka did not acknowledge within {} ms ({})", ackTimeout.toMillis(),
                    error.toString());
            return Problems.unavailable(notAcknowledged(ackTimeout), retryAfter, error);
        }
        log.warn("answering 503: Kafka refused {} of {} records ({})", records == 1 ? "the only one" : "one or more",
                records, error.toString());
        if (records > 1) {
            return Problems.unavailable("Kafka refused some of the request's records and may have stored others: "
                    + "retrying may repeat what was stored. A send retried with the same Idempotency-Key is safe; "
                    + "one repeated without queues again every recipient that has no foreign_id.", retryAfter, error);
        }
        return Problems.unavailable("The request could not be queued: Kafka refused the records. Retry later.",
                retryAfter, error);
    }

    /**
     * The 503 of a request that is no send: the failure, told as {@link #unavailable(Throwable, int)} logs it, then
     * {@code outcome}.
     */
    Throwable unavailable(Throwable error, int records, String outcome) {
        boolean late = late(error);
        log.warn("answering 503: Kafka {} ({})", late ? "did not acknowledge within " + ackTimeout.toMillis() + " ms"
                : "refused " + (records == 1 ? "the only record" : "one or more of " + records + " records"),
                error.toString());
        return Problems.unavailable((late ? "Kafka did not acknowledge the request within " + ackTimeout.toMillis()
                + " ms. " : "Kafka refused the request's records. ") + outcome, retryAfter, error);
    }

    /** The 503's detail when Kafka did not acknowledge within {@code ackTimeout}. */
    public static String notAcknowledged(Duration ackTimeout) {
        return "Kafka did not acknowledge the request within " + ackTimeout.toMillis() + " ms; it may still take "
                + "effect. " + RETRY_WITH_THE_KEY;
    }

    private static void record(Timer timer, long started) {
        timer.record(Duration.ofNanos(System.nanoTime() - started));
    }

    private static Counter refusedCounter(MeterRegistry registry, String reason) {
        return Counter.builder("dialer.api.produce.refused")
                .description("Requests answered 503 at once: their records would have held more than "
                        + "dialer.api.kafka.max-bytes-in-flight while waiting for Kafka, or a send's more than the "
                        + "sends' part of it (budget), or than its account's share of it (account_share)")
                .tag("reason", reason)
                .register(registry);
    }

    private static Timer latency(MeterRegistry registry, String outcome) {
        return Timer.builder("dialer.api.produce.latency")
                .description("Time from producing a request's records to the broker acknowledging all of them")
                .tag("outcome", outcome)
                .register(registry);
    }
}
