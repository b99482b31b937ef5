package dev.dialer.api.problem;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpMethod;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.reactive.HandlerMapping;
import org.springframework.web.util.pattern.PathPatternParser;

class LoggedPathsTest {

    @Test
    void aMatchedRequestIsLoggedByItsRouteNotByTheNumberInItsPath() {
        MockServerWebExchange exchange = MockServerWebExchange.from(
                MockServerHttpRequest.put("/api/v2/dnc/919876543215"));
        exchange.getAttributes().put(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE,
                PathPatternParser.defaultInstance.parse("/api/v2/dnc/{number}"));

        assertThat(LoggedPaths.of(exchange)).isEqualTo("/api/v2/dnc/{number}");
    }

    @Test
    void anUnmatchedRequestIsLoggedWithoutTheDigitsOfANumber() {
        MockServerHttpRequest number = MockServerHttpRequest.delete("/api/v2/dnc/+919876543215").build();
        assertThat(LoggedPaths.of(MockServerWebExchange.from(number))).isEqualTo("/api/v2/dnc/…");
        assertThat(LoggedPaths.of(MockServerWebExchange.from(MockServerHttpRequest.get("/api/v2/calls/ab-12"))))
                .isEqualTo("/api/v2/calls/ab-12");
    }

    @Test
    void aNumberWrittenWithSeparatorsOrEncodedIsLeftOutToo() {
        for (String path : new String[] {"/api/v2/dnc/+1-415-555-2671", "/api/v2/dnc/%28415%29%20555-2671",
                "/api/v2/dnc/415.555.2671", "/api/v2/dnc/%34%31%35%35%35%35%32%36%37%31"}) {
            String logged = LoggedPaths.of(MockServerWebExchange.from(
                    MockServerHttpRequest.method(HttpMethod.DELETE, URI.create(path))));
            assertThat(logged).as(path).startsWith("/api/v2/dnc/").doesNotContainPattern("\\d.*\\d.*\\d.*\\d");
        }
    }

    @Test
    void aDecodedLineBreakDoesNotReachTheLog() {
        assertThat(LoggedPaths.of(MockServerWebExchange.from(
                MockServerHttpRequest.method(HttpMethod.GET, URI.create("/api/v2/x%0Aforged")))))
                .isEqualTo("/api/v2/x?forged");
    }
}
