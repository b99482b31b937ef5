package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.DispatcherFixture.shortCalls;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.infra.MonitoredMetrics;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * The alert rules and the dashboard under {@code deploy/} read only series the dispatcher really exports: every
 * metric name of the dispatcher (and of the JVM, HTTP server and carrier breakers it reports) that
 * {@code deploy/prometheus/alerts.yml} or {@code deploy/grafana/dashboards/dialer.json} names is in what a Prometheus
 * server scrapes from a running dispatcher. A renamed meter, or a misspelt name in a rule, fails here rather than
 * leaving an alert that can never fire.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=dispatcher-service")
@DirtiesContext
class MonitoredMetricsIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    /** The dispatcher's own meters, the carrier breakers', the consumer lag and those Spring Boot registers. */
    private static final List<String> PREFIXES = List.of("dialer_dispatcher_", "dialer_kafka_", "resilience4j_",
            "jvm_", "http_server_requests_");

    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, shortCalls());

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        fixture.register(registry);
    }

    @LocalServerPort
    int port;

    @Test
    void exportsEveryMetricTheAlertRulesAndTheDashboardRead() throws IOException {
        Set<String> referenced = MonitoredMetrics.referenced(PREFIXES);
        assertThat(referenced).as("names read from " + MonitoredMetrics.FILES).isNotEmpty();

        // Some meters are registered at their first use: one call dialled to its end, one command sent to the DLQ.
        String caller = "+4930" + ThreadLocalRandom.current().nextInt(1_000_000, 9_999_999);
        String requestId = "it-" + UUID.randomUUID();
        fixture.produce(caller, "not a command");
        fixture.produce(caller, command(requestId, caller));
        fixture.awaitFinal(requestId);

        // Scraped until the meters registered on the way are there (the DLQ's counts a copy once the broker has it,
        // the HTTP server's a request once answered, the first scrape included); a name never exported fails.
        await().atMost(WAIT).untilAsserted(() ->
                assertThat(MonitoredMetrics.exported(scrape())).as("names the dispatcher exports")
                        .containsAll(referenced));
    }

    private String scrape() {
        return WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(WAIT).build()
                .get().uri("/actuator/prometheus").exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
    }



    private static String command(String requestId, String callerId) {
        return """
                {"version":1,"request_id":"%s","account_id":"acc-it","caller_id":"%s","to":"+4915112345678",
                 "audio":"welcome.wav","created_at":"2025-06-01T12:00:00Z"}""".formatted(requestId, callerId);
    }
}
