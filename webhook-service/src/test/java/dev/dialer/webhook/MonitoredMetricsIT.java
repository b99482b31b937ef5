package dev.dialer.webhook;

import static dev.dialer.webhook.ItFixture.WAIT;
import static dev.dialer.webhook.ItFixture.command;
import static dev.dialer.webhook.ItFixture.newSecret;
import static dev.dialer.webhook.ItFixture.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.infra.Infrastructure;
import dev.dialer.infra.MonitoredMetrics;
import dev.dialer.webhook.directory.WebhookDirectory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The alert rules and the dashboard under {@code deploy/} read only series webhook-service really exports: every
 * metric name of webhook-service (and of the JVM and HTTP server every service reports) that
 * {@code deploy/prometheus/alerts.yml} or {@code deploy/grafana/dashboards/dialer.json} names is in what a Prometheus
 * server scrapes from the running service. A renamed meter, or a misspelt name in a rule, fails here rather than
 * leaving an alert that can never fire.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=webhook-service")
@ActiveProfiles("it")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class MonitoredMetricsIT {

    private static final Duration SCRAPES_WAIT = Duration.ofSeconds(30);
    /** webhook-service's own meters, the consumer lag every service measures and those Spring Boot registers. */
    private static final List<String> PREFIXES = List.of("dialer_webhook_", "dialer_kafka_", "jvm_",
            "http_server_requests_");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static WebhookReceiver receiver;
    private static ItFixture fixture;

    @LocalServerPort
    int port;
    @Autowired
    WebhookDirectory directory;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
    }

    @BeforeAll
    static void start() {
        receiver = WebhookReceiver.start();
        fixture = new ItFixture("monitored-metrics-it");
    }

    @AfterAll
    static void stop() {
        fixture.close();
        receiver.close();
    }

    @Test
    void exportsEveryMetricTheAlertRulesAndTheDashboardRead() throws Exception {
        Set<String> referenced = MonitoredMetrics.referenced(PREFIXES);
        assertThat(referenced).as("names read from " + MonitoredMetrics.FILES).isNotEmpty();

        // Some meters are registered at their first use: one event delivered to a webhook.
        String account = unique("acc");
        String id = unique("wh");
        fixture.publishWebhook(new WebhookConfig(id, account, receiver.url("hooks/" + id), "test", newSecret(), true,
                Instant.now()));
        await().atMost(WAIT).until(() -> directory.current(id) != null);
        String requestId = unique("req");
        fixture.publishEvents(requestId, List.of(CallEvent.about(command(requestId, account, id)).sequence(1)
                .status(AttemptStatus.RINGING).build()));
        await().atMost(WAIT).until(() -> receiver.at("hooks/" + id).size() == 1);

        // Scraped until the meters registered on the way are there (the delivery latency's times a try once it has
        // ended, the HTTP server's a request once answered, the first scrape included); a name never exported fails.
        await().atMost(SCRAPES_WAIT).untilAsserted(() ->
                assertThat(MonitoredMetrics.exported(scrape())).as("names webhook-service exports")
                        .containsAll(referenced));
    }

    private String scrape() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/prometheus"))
                .timeout(Duration.ofSeconds(30))
                .header("Accept", "text/plain;version=0.0.4")
                .GET().build();
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }


}
