package dev.dialer.api.problem;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTimeoutException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerCodecConfigurer;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;

/**
 * Failures outside the controllers (a filter's, such as the API key's lookup) are answered as the controllers' are:
 * a database that cannot be reached is a 503 with {@code Retry-After}, not a 500.
 */
class ProblemWebExceptionHandlerTest {

    private final ProblemWebExceptionHandler handler = new ProblemWebExceptionHandler(ServerCodecConfigurer.create());

    @Test
    void aDatabaseThatCannotBeReachedFromAFilterIs503WithRetryAfter() {
        for (Throwable away : List.of(new R2dbcNonTransientResourceException("Connection refused: localhost:5432"),
                new R2dbcTimeoutException("Connection acquisition timed out after 5000ms"))) {
            MockServerWebExchange exchange = exchange();

            handler.handle(exchange, away).block(Duration.ofSeconds(5));

            assertThat(exchange.getResponse().getStatusCode().value()).isEqualTo(503);
            assertThat(exchange.getResponse().getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("5");
            assertThat(exchange.getResponse().getHeaders().getContentType())
                    .isEqualTo(MediaType.APPLICATION_PROBLEM_JSON);
            assertThat(exchange.getResponse().getBodyAsString().block(Duration.ofSeconds(5)))
                    .contains("\"type\":\"https://dialer.dev/problems/unavailable\"")
                    .contains("\"instance\":\"/api/v2/calls\"");
        }
    }

    @Test
    void aFailureOfOurOwnIsStill500() {
        MockServerWebExchange exchange = exchange();

        handler.handle(exchange, new IllegalStateException("a bug")).block(Duration.ofSeconds(5));

        assertThat(exchange.getResponse().getStatusCode().value()).isEqualTo(500);
        assertThat(exchange.getResponse().getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isNull();
    }

    private static MockServerWebExchange exchange() {
        return MockServerWebExchange.from(MockServerHttpRequest.get("/api/v2/calls?limit=1"));
    }
}
