package dev.dialer.api.idempotency;

import dev.dialer.api.kafka.AcknowledgedPublisher;
import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.NulCharacters;
import dev.dialer.api.problem.Problems;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The {@code Idempotency-Key} header, the same on every endpoint that creates calls (per account, 24 hours): a repeat
 * with the same fingerprint answers the stored response with {@code Idempotent-Replayed: true} and produces nothing;
 * the same key with another fingerprint is a 409; a request refused with a 4xx before it produced anything leaves no
 * claim behind, so the key can be sent again at once with a corrected body (a refusal is not stored, as Stripe does
 * not store one either). Call ids come from {@link IdempotencyKey#callId} (or from a recipient's {@code foreign_id}),
 * so a retry after an ambiguous 503 produces the same ids and the dispatcher dials each once.
 */
@Component
public class IdempotentRequests {

    /** What a refusal adds when an earlier try under its key may have queued calls ({@link #earlierTryInDoubt}). */
    static final String EARLIER_TRY_IN_DOUBT = "An earlier request under this Idempotency-Key did not finish (it was "
            + "answered 503, or is still running) and may have queued calls: the key stays taken, with that request's "
            + "call ids. Retry under this key, not another: a call it queued may not show in GET /api/v2/calls until "
            + "the dispatcher takes it up, hours later behind a caller ID's backlog or a calling window.";

    public static final String HEADER = "Idempotency-Key";
    public static final String REPLAYED = "Idempotent-Replayed";
    public static final int MAX_KEY_LENGTH = 255;
    private static final Logger log = LoggerFactory.getLogger(IdempotentRequests.class);

    private final IdempotencyStore store;
    private final AcknowledgedPublisher publisher;
    private final Counter answersNotStored;

    IdempotentRequests(IdempotencyStore store, AcknowledgedPublisher publisher, MeterRegistry registry) {
        this.store = store;
        this.publisher = publisher;
        this.answersNotStored = Counter.builder("dialer.api.produced_unconfirmed")
                .description("Requests answered 503 after Kafka had their records (their state did not commit)")
                .tag("stage", "idempotency_key").register(registry);
    }

    /**
     * The request's key, stripped; null when there is none (or it is blank).
     *
     * @throws ApiProblem 400 naming the header when the key is too long or holds a NUL character
     */
    public static String keyOf(ServerHttpRequest request) {
        String key = request.getHeaders().getFirst(HEADER);
        if (key == null || key.isBlank()) {
            return null;
        }
        String stripped = key.strip();
        if (stripped.length() > MAX_KEY_LENGTH) {
            throw Problems.validation(HEADER, "must be at most " + MAX_KEY_LENGTH + " characters");
        }
        if (NulCharacters.in(stripped)) {
            throw Problems.validation(HEADER, NulCharacters.MESSAGE);
        }
        return stripped;
    }

    /**
     * Answers a request under {@code key} once.
     *
     * @param fingerprint what makes a repeat the same request: the endpoint and the body (a hash)
     * @param status      the status of the answer {@code work} produces, and of its replays
     * @param work        validates, produces with the key's call ids, and answers the body (JSON)
     */
    public Mono<ResponseEntity<byte[]>> once(String accountId, String key, String fingerprint, HttpStatus status,
                                             Function<IdempotencyKey, Mono<byte[]>> work) {
        return store.claim(accountId, key, fingerprint).flatMap(claim -> {
            if (claim instanceof IdempotencyStore.Replay replay) {
                return Mono.just(ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON)
                        .header(REPLAYED, "true").body(replay.response().getBytes(StandardCharsets.UTF_8)));
            }
            if (claim instanceof IdempotencyStore.Conflict) {
                return Mono.error(Problems.idempotencyConflict(key));
            }
            IdempotencyStore.Proceed proceed = (IdempotencyStore.Proceed) claim;
            return work.apply(new IdempotencyKey(key, proceed.salt(), proceed.claimedAt()))
                    .onErrorResume(error -> refusedBeforeProducing(error) && proceed.fresh(),
                            error -> release(accountId, key, proceed.salt()).then(Mono.error(error)))
                    .onErrorMap(error -> refusedBeforeProducing(error) && !proceed.fresh(),
                            error -> earlierTryInDoubt((ApiProblem) error))
                    .flatMap(body -> store.complete(accountId, key, fingerprint, proceed.salt(),
                                    new String(body, StandardCharsets.UTF_8))
                            .onErrorMap(error -> answerNotStored(accountId, error))
                            .thenReturn(ResponseEntity.status(status).contentType(MediaType.APPLICATION_JSON)
                                    .body(body)));
        });
    }

    /**
     * The work produced, so its calls are in Kafka, but the answer to replay was not stored: a 503 that says so, not a
     * 500 "safe to retry". The claim holds no answer, so a retry under the key proceeds with its salt and ids.
     */
    private Throwable answerNotStored(String accountId, Throwable error) {
        answersNotStored.increment();
        log.warn("Idempotency-Key answer of account {} not stored after its calls were produced; answering 503",
                accountId, error);
        return Problems.unconfirmed(publisher.retryAfter(), error);
    }

    /**
     * A 4xx: the endpoints refuse bad input, a caller ID not allowed, too many recipients… before they produce. A 503
     * (Kafka did not acknowledge in time) or any other failure may come after the records were stored: the claim
     * stays, so the retry reproduces the same ids.
     */
    /**
     * A 4xx for a request that found the key's claim taken by an earlier try that never finished (answered 503, or
     * still running): that try may have queued calls, so the claim is kept (its ids stay the key's) and the answer
     * says so. Without it, a client told twice that nothing was queued (a 503, then this refusal: an allowed caller ID
     * removed, a webhook deleted meanwhile) would send the recipients again under a new key, and they would be called
     * twice.
     */
    private static ApiProblem earlierTryInDoubt(ApiProblem problem) {
        String detail = problem.getBody().getDetail();
        problem.getBody().setDetail((detail == null ? "" : detail + " ") + EARLIER_TRY_IN_DOUBT);
        problem.getBody().setProperty("earlier_try_in_doubt", true);
        return problem;
    }

    /**
     * A 4xx, or the publisher's 503 refusal made before anything was handed to Kafka (its budget, or the account's
     * share of it, full: {@link AcknowledgedPublisher#refusedAtOnce}): this try queued nothing, though an earlier one
     * under the key may have.
     */
    private static boolean refusedBeforeProducing(Throwable error) {
        return error instanceof ApiProblem problem && (problem.getStatusCode().is4xxClientError()
                || AcknowledgedPublisher.refusedAtOnce(problem));
    }

    /** A claim that cannot be released only keeps the key from being used again for its 24 hours. */
    private Mono<Void> release(String accountId, String key, String salt) {
        return store.release(accountId, key, salt).onErrorResume(failure -> {
            log.warn("Idempotency-Key of account {} not released after a refused request", accountId, failure);
            return Mono.empty();
        });
    }
}
