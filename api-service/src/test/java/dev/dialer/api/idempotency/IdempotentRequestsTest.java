package dev.dialer.api.idempotency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.dialer.api.kafka.AcknowledgedPublisher;
import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.Problems;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class IdempotentRequestsTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void aKeyIsMeasuredAfterTheWhitespaceAroundItIsStripped() {
        // A key of the longest length with a space on either side was refused as too long, though it is kept stripped.
        String longest = "k".repeat(IdempotentRequests.MAX_KEY_LENGTH);

        assertThat(IdempotentRequests.keyOf(withKey(" " + longest + " "))).isEqualTo(longest);
        ApiProblem tooLong = catchThrowableOfType(ApiProblem.class,
                () -> IdempotentRequests.keyOf(withKey(" " + longest + "k ")));
        assertThat(tooLong.errors()).extracting(error -> error.field() + " " + error.message())
                .containsExactly("Idempotency-Key must be at most 255 characters");
    }

    private static MockServerHttpRequest withKey(String key) {
        return MockServerHttpRequest.post("/api/v2/outgoing/send").header(IdempotentRequests.HEADER, key).build();
    }

    @Test
    void anAnswerThatCannotBeStoredAfterTheCallsWereProducedIsAnAmbiguous503NotA500() {
        IdempotentRequests requests = new IdempotentRequests(new AnswerNotStored(),
                new AcknowledgedPublisher(null, Duration.ofSeconds(10), Duration.ofSeconds(5), registry), registry);

        requests.once("acme", "order-1", "fingerprint", HttpStatus.OK,
                        key -> Mono.just("{\"status\":\"OK\"}".getBytes(StandardCharsets.UTF_8)))
                .as(StepVerifier::create)
                .expectErrorSatisfies(error -> {
                    ApiProblem problem = (ApiProblem) error;
                    assertThat(problem.getStatusCode().value()).isEqualTo(503);
                    assertThat(problem.getHeaders().getFirst("Retry-After")).isEqualTo("5");
                    assertThat(problem.getBody().getDetail()).contains("same Idempotency-Key");
                })
                .verify(Duration.ofSeconds(5));

        assertThat(registry.find("dialer.api.produced_unconfirmed").tag("stage", "idempotency_key").counter().count())
                .isEqualTo(1);
    }

    @Test
    void aRefusalOfARequestWhoseKeyAnEarlierUnfinishedTryHoldsSaysThatTryMayHaveQueuedCallsAndKeepsTheKey() {
        java.util.List<String> released = new java.util.ArrayList<>();
        IdempotencyStore earlierTryUnfinished = new AnswerNotStored() {
            @Override
            public Mono<Claim> claim(String accountId, String key, String fingerprint) {
                return Mono.just(new Proceed("salt", false));
            }

            @Override
            public Mono<Void> release(String accountId, String key, String salt) {
                return Mono.fromRunnable(() -> released.add(key));
            }
        };
        IdempotentRequests requests = new IdempotentRequests(earlierTryUnfinished,
                new AcknowledgedPublisher(null, Duration.ofSeconds(10), Duration.ofSeconds(5), registry), registry);

        requests.once("acme", "order-1", "fingerprint", HttpStatus.OK,
                        key -> Mono.error(Problems.forbidden("bridge", "is not a caller ID of the account")))
                .as(StepVerifier::create)
                .expectErrorSatisfies(error -> {
                    ApiProblem problem = (ApiProblem) error;
                    assertThat(problem.getStatusCode().value()).isEqualTo(403);
                    assertThat(problem.getBody().getDetail()).startsWith("bridge is not a caller ID of the account")
                            .endsWith(IdempotentRequests.EARLIER_TRY_IN_DOUBT);
                    assertThat(problem.getBody().getProperties()).containsEntry("earlier_try_in_doubt", true);
                })
                .verify(Duration.ofSeconds(5));
        assertThat(released).isEmpty();
    }

    /**
     * A retry refused at once because the Kafka budget (or the account's share of it) is full queued nothing, but the
     * try before it, answered an ambiguous 503, may have: the answer says so, and the key is kept; a first try so
     * refused gives its key back.
     */
    @Test
    void aRetryRefusedAtOnceForTheKafkaBudgetSaysThatTheEarlierTryMayHaveQueuedCalls() {
        java.util.List<String> released = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean fresh = new java.util.concurrent.atomic.AtomicBoolean(false);
        IdempotencyStore store = new AnswerNotStored() {
            @Override
            public Mono<Claim> claim(String accountId, String key, String fingerprint) {
                return Mono.just(new Proceed("salt", fresh.get()));
            }

            @Override
            public Mono<Void> release(String accountId, String key, String salt) {
                return Mono.fromRunnable(() -> released.add(key));
            }
        };
        IdempotentRequests requests = new IdempotentRequests(store,
                new AcknowledgedPublisher(null, Duration.ofSeconds(10), Duration.ofSeconds(5), registry), registry);

        requests.once("acme", "order-1", "fingerprint", HttpStatus.OK, key -> Mono.error(Problems.unavailable(
                        AcknowledgedPublisher.SHARE_SPENT, Duration.ofSeconds(5), null)))
                .as(StepVerifier::create)
                .expectErrorSatisfies(error -> {
                    ApiProblem problem = (ApiProblem) error;
                    assertThat(problem.getStatusCode().value()).isEqualTo(503);
                    assertThat(problem.getBody().getDetail()).startsWith(AcknowledgedPublisher.SHARE_SPENT)
                            .endsWith(IdempotentRequests.EARLIER_TRY_IN_DOUBT);
                })
                .verify(Duration.ofSeconds(5));
        assertThat(released).isEmpty();

        fresh.set(true);
        requests.once("acme", "order-2", "fingerprint", HttpStatus.OK, key -> Mono.error(Problems.unavailable(
                        AcknowledgedPublisher.BUDGET_SPENT, Duration.ofSeconds(5), null)))
                .as(StepVerifier::create)
                .expectErrorSatisfies(error -> assertThat(((ApiProblem) error).getBody().getDetail())
                        .isEqualTo(AcknowledgedPublisher.BUDGET_SPENT))
                .verify(Duration.ofSeconds(5));
        assertThat(released).containsExactly("order-2");
    }

    /** A store that grants every claim and fails to store the answer, as when the database goes away meanwhile. */
    private static class AnswerNotStored extends IdempotencyStore {

        AnswerNotStored() {
            super(null, new IdempotencyProperties(java.time.Duration.ofMinutes(10), 1, true));
        }

        @Override
        public Mono<Claim> claim(String accountId, String key, String fingerprint) {
            return Mono.just(new Proceed("salt", true));
        }

        @Override
        public Mono<Void> complete(String accountId, String key, String fingerprint, String salt, String response) {
            return Mono.error(new DataAccessResourceFailureException("connection lost"));
        }
    }
}
