package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.infra.MonitoredMetrics;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The alert rules and the dashboard under {@code deploy/} read only series api-service really exports: every metric
 * name of api-service (and of the JVM and HTTP server every service reports) that
 * {@code deploy/prometheus/alerts.yml} or {@code deploy/grafana/dashboards/dialer.json} names is in what a Prometheus
 * server scrapes from the running service. A renamed meter, or a misspelt name in a rule, fails here rather than
 * leaving an alert that can never fire.
 */
class MonitoredMetricsIT extends RunningApiService {

    private static final Duration WAIT = Duration.ofSeconds(30);
    /** api-service's own meters, the consumer lag every service measures and those Spring Boot registers. */
    private static final List<String> PREFIXES = List.of("dialer_api_", "dialer_kafka_", "jvm_",
            "http_server_requests_");

    @Test
    void exportsEveryMetricTheAlertRulesAndTheDashboardRead() throws Exception {
        Set<String> referenced = MonitoredMetrics.referenced(PREFIXES);
        assertThat(referenced).as("names read from " + MonitoredMetrics.FILES).isNotEmpty();

        // Some meters are registered at their first use: one call accepted, acknowledged by Kafka.
        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, KEY, """
                {"bridge":"918068281234","to":"919876543210","flow_id":"23"}""");
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);

        // Scraped until the meters registered on the way are there (the HTTP server's counts a request once answered,
        // the first scrape included); a name never exported fails.
        await().atMost(WAIT).untilAsserted(() ->
                assertThat(MonitoredMetrics.exported(scrape())).as("names api-service exports")
                        .containsAll(referenced));
    }


}
