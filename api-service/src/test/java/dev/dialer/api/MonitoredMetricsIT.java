package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
    private static final List<Path> MONITORING = List.of(
            Path.of("..", "deploy", "prometheus", "alerts.yml"),
            Path.of("..", "deploy", "grafana", "dashboards", "dialer.json"));
    /** api-service's own meters and those Spring Boot registers in every service. */
    private static final Pattern REFERENCED = Pattern.compile(
            "(?<![A-Za-z0-9_:])(?:dialer_api_|jvm_|http_server_requests_)[A-Za-z0-9_]+");
    /** A sample line of the text format: its name, then labels or the value. */
    private static final Pattern SAMPLE = Pattern.compile("^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]", Pattern.MULTILINE);

    @Test
    void exportsEveryMetricTheAlertRulesAndTheDashboardRead() throws Exception {
        Set<String> referenced = referenced();
        assertThat(referenced).as("names read from " + MONITORING).isNotEmpty();

        // Some meters are registered at their first use: one call accepted, acknowledged by Kafka.
        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, KEY, """
                {"bridge":"918068281234","to":"919876543210","flow_id":"23"}""");
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);

        // Scraped until the meters registered on the way are there (the HTTP server's counts a request once answered,
        // the first scrape included); a name never exported fails.
        await().atMost(WAIT).untilAsserted(() ->
                assertThat(exported(scrape())).as("names api-service exports").containsAll(referenced));
    }

    private static Set<String> referenced() throws IOException {
        Set<String> names = new TreeSet<>();
        for (Path file : MONITORING) {
            Matcher matcher = REFERENCED.matcher(Files.readString(file));
            while (matcher.find()) {
                names.add(matcher.group());
            }
        }
        return names;
    }

    private static Set<String> exported(String scrape) {
        Set<String> names = new TreeSet<>();
        Matcher matcher = SAMPLE.matcher(scrape);
        while (matcher.find()) {
            names.add(matcher.group(1));
        }
        return names;
    }
}
