package dev.dialer.api.problem;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcRollbackException;
import io.r2dbc.spi.R2dbcTimeoutException;
import io.r2dbc.spi.R2dbcTransientException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.PessimisticLockingFailureException;
import org.springframework.r2dbc.UncategorizedR2dbcException;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.reactive.function.BodyInserters;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Errors the framework raises on bad input are answered as 4xx problems, and a request the database failed for a
 * concurrent one's sake as a 503, never as 500s.
 */
class ProblemAdviceTest {

    private final WebTestClient client = WebTestClient.bindToController(new ContentTypeReader(), new Conflicting(),
                    new DatabaseAway())
            .controllerAdvice(new ProblemAdvice())
            .build();

    @Test
    void answersAContentTypeThatCannotBeParsedWith415() {
        client.post().uri("/content-type")
                .header("Content-Type", "application/json; charset=utf-9")
                .body(BodyInserters.fromDataBuffers(Flux.just(DefaultDataBufferFactory.sharedInstance.wrap(
                        new byte[] {'{', '}'}))))
                .exchange()
                .expectStatus().isEqualTo(415)
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody()
                .jsonPath("$.type").isEqualTo("https://dialer.dev/problems/unsupported-media-type")
                .jsonPath("$.status").isEqualTo(415)
                .jsonPath("$.instance").isEqualTo("/content-type");
    }

    @Test
    void answersADeadlockOrSerializationFailureWith503AndRetryAfterNot500() {
        for (String path : List.of("/deadlock", "/serialization", "/lock-failure")) {
            client.post().uri(path)
                    .exchange()
                    .expectStatus().isEqualTo(503)
                    .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                    .expectHeader().valueEquals("Retry-After", "1")
                    .expectBody()
                    .jsonPath("$.type").isEqualTo("https://dialer.dev/problems/unavailable")
                    .jsonPath("$.instance").isEqualTo(path);
        }
    }

    @Test
    void answersADatabaseThatCannotBeReachedWith503AndRetryAfterNot500() {
        for (String path : List.of("/refused", "/pool-exhausted", "/translated", "/read-past-its-bound",
                "/statement-timeout")) {
            client.post().uri(path)
                    .exchange()
                    .expectStatus().isEqualTo(503)
                    .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                    .expectHeader().valueEquals("Retry-After", "5")
                    .expectBody()
                    .jsonPath("$.type").isEqualTo("https://dialer.dev/problems/unavailable")
                    .jsonPath("$.detail").value(detail -> assertThat((String) detail).contains("may not have"));
        }
        client.post().uri("/bug").exchange().expectStatus().isEqualTo(500);
        // The driver raises a statement's own error of a state it does not map as a resource exception too.
        client.post().uri("/statement-refused").exchange().expectStatus().isEqualTo(500);
    }

    /** Fails as a request does while PostgreSQL is away, as the driver and the pool raise it and as Spring wraps it. */
    @RestController
    static class DatabaseAway {

        @PostMapping("/refused")
        Mono<String> refused() {
            return Mono.error(new DataAccessResourceFailureException("Failed to obtain R2DBC Connection",
                    new R2dbcNonTransientResourceException("Connection refused: localhost/127.0.0.1:5432")));
        }

        @PostMapping("/pool-exhausted")
        Mono<String> poolExhausted() {
            return Mono.error(new R2dbcTimeoutException("Connection acquisition timed out after 5000ms"));
        }

        @PostMapping("/read-past-its-bound")
        Mono<String> readPastItsBound() {
            // A read bounded by a time-out of ours, as a campaign's count is: Reactor's TimeoutException.
            return Mono.<String>never().timeout(java.time.Duration.ofMillis(10));
        }

        @PostMapping("/statement-timeout")
        Mono<String> statementTimeout() {
            return Mono.error(new UncategorizedR2dbcException("execute", "SELECT status, count(*) …",
                    new R2dbcNonTransientResourceException("canceling statement due to statement timeout", "57014")));
        }

        @PostMapping("/translated")
        Mono<String> translated() {
            return Mono.error(new DataAccessResourceFailureException("execute",
                    new R2dbcNonTransientResourceException("terminating connection due to administrator command",
                            "57P01")));
        }

        @PostMapping("/statement-refused")
        Mono<String> statementRefused() {
            return Mono.error(new DataAccessResourceFailureException("execute",
                    new R2dbcNonTransientResourceException("index row size exceeds maximum", "54000")));
        }

        @PostMapping("/bug")
        Mono<String> bug() {
            return Mono.error(new IllegalStateException("a bug"));
        }
    }

    /** Fails as the loser of a deadlock or serialization conflict arrives: as Spring wraps it, as the driver raises it. */
    @RestController
    static class Conflicting {

        @PostMapping("/deadlock")
        Mono<String> deadlock() {
            return Mono.error(new UncategorizedR2dbcException("executeMany", "INSERT …",
                    new R2dbcTransientException("deadlock detected", "40P01") { }));
        }

        @PostMapping("/serialization")
        Mono<String> serialization() {
            return Mono.error(new R2dbcRollbackException("could not serialize access", "40001"));
        }

        @PostMapping("/lock-failure")
        Mono<String> lockFailure() {
            return Mono.error(new PessimisticLockingFailureException("deadlock detected"));
        }
    }

    /** Reads the Content-Type the way framework code does, which throws for a label it cannot parse. */
    @RestController
    static class ContentTypeReader {

        @PostMapping("/content-type")
        Mono<String> contentType(ServerHttpRequest request) {
            return Mono.just(String.valueOf(request.getHeaders().getContentType()));
        }
    }
}
