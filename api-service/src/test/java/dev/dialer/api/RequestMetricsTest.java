package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;

class RequestMetricsTest {

    @Test
    void countsARequestUnderTheEndpointItsPathReachesEncodedOrWithMatrixParameters() {
        // Counted as no endpoint at all before: the raw path did not begin with /api/.
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.method(HttpMethod.POST,
                URI.create("/%61pi/v2/outgoing;v=1/%73end")).build());

        new RequestMetrics(registry).filter(exchange, served -> {
            served.getResponse().setStatusCode(HttpStatus.OK);
            return served.getResponse().setComplete();
        }).block();

        assertThat(registry.get("dialer.api.requests").tag("endpoint", "send").tag("outcome", "accepted").counter()
                .count()).isEqualTo(1);
    }

    @Test
    void tagsByFeatureNeverByPath() {
        assertThat(RequestMetrics.endpointOf("/api/v2/outgoing/send")).isEqualTo("send");
        assertThat(RequestMetrics.endpointOf("/api/v2/webhooks")).isEqualTo("webhooks");
        assertThat(RequestMetrics.endpointOf("/api/v2/webhooks/0b6c…")).isEqualTo("webhooks");
        assertThat(RequestMetrics.endpointOf("/api/v2/subscriptions")).isEqualTo("subscriptions");
        assertThat(RequestMetrics.endpointOf("/api/v2/subscriptions/5f0c…")).isEqualTo("subscriptions");
        assertThat(RequestMetrics.endpointOf("/api/v2/outgoing/preview")).isEqualTo("preview");
        assertThat(RequestMetrics.endpointOf("/api/v2/calls/0b6c…")).isEqualTo("calls");
        assertThat(RequestMetrics.endpointOf("/api/v2/campaigns/spring/pause")).isEqualTo("campaigns");
        assertThat(RequestMetrics.endpointOf("/api/v2/dnc/919876543215")).isEqualTo("dnc");
        assertThat(RequestMetrics.endpointOf("/api/v2/account/settings")).isEqualTo("account-settings");
        assertThat(RequestMetrics.endpointOf("/api/v2/anything/else")).isEqualTo("other");
        assertThat(RequestMetrics.endpointOf("/actuator/prometheus")).isNull();
    }

    @Test
    void classifiesOutcomesByStatus() {
        assertThat(RequestMetrics.outcomeOf(HttpStatus.OK)).isEqualTo("accepted");
        assertThat(RequestMetrics.outcomeOf(HttpStatus.CREATED)).isEqualTo("accepted");
        assertThat(RequestMetrics.outcomeOf(null)).isEqualTo("accepted");
        assertThat(RequestMetrics.outcomeOf(HttpStatus.BAD_REQUEST)).isEqualTo("rejected");
        assertThat(RequestMetrics.outcomeOf(HttpStatus.UNAUTHORIZED)).isEqualTo("rejected");
        assertThat(RequestMetrics.outcomeOf(HttpStatus.SERVICE_UNAVAILABLE)).isEqualTo("unavailable");
        assertThat(RequestMetrics.outcomeOf(HttpStatus.TOO_MANY_REQUESTS)).isEqualTo("limited");
        assertThat(RequestMetrics.outcomeOf(HttpStatus.INTERNAL_SERVER_ERROR)).isEqualTo("failed");
    }
}
