package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;

class RequestMetricsTest {

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
