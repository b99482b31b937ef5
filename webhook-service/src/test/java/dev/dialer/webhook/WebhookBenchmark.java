package dev.dialer.webhook;

import static dev.dialer.webhook.ItFixture.command;
import static dev.dialer.webhook.ItFixture.newSecret;
import static dev.dialer.webhook.ItFixture.unique;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.directory.WebhookDirectory;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.resources.LoopResources;

/**
 * A benchmark harness, not a test: never part of the default run (its name matches neither *Test nor *IT, and it
 * needs {@code -Dbenchmark=true}). It starts the service with its production defaults against the embedded Kafka and
 * PostgreSQL, and real local receivers, and prints: signed deliveries per second to a local receiver, the p99 from
 * publishing an event to its arrival at 1,000 events/s, and that p99 for ten healthy endpoints with and without a
 * dead and a hanging endpoint beside them. Run with
 * {@code ./mvnw -B -pl webhook-service -am verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false
 * -Dfailsafe.failIfNoSpecifiedTests=false -Dit.test=WebhookBenchmark -Dbenchmark=true}; figures go to the test's
 * output file.
 */
@EnabledIfSystemProperty(named = "benchmark", matches = "true")
class WebhookBenchmark {

    private static final int HEALTHY = 10;
    private final Map<String, Long> publishedAt = new ConcurrentHashMap<>();
    private final Map<String, Long> latencies = new ConcurrentHashMap<>();
    private final AtomicInteger arrived = new AtomicInteger();

    @Test
    void run() throws IOException {
        LoopResources loops = LoopResources.create("bench-receivers", 2, true);
        List<DisposableServer> receivers = new ArrayList<>();
        for (int i = 0; i < HEALTHY; i++) {
            receivers.add(HttpServer.create().runOn(loops).host("127.0.0.1").port(0)
                    .handle((request, response) -> request.receive().then()
                            .then(Mono.fromRunnable(() -> arrival(request.requestHeaders().get("webhook-id"))))
                            .then(response.status(200).send().then()))
                    .bindNow());
        }
        DisposableServer hanging = HttpServer.create().runOn(loops).host("127.0.0.1").port(0)
                .handle((request, response) -> Mono.never()).bindNow();
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        KafkaPublisher publisher = KafkaPublisher.create(
                KafkaSettings.of(Infrastructure.shared().kafkaBootstrapServers()), "bench", Duration.ofSeconds(60));
        try (ConfigurableApplicationContext service = start()) {
            WebhookDirectory directory = service.getBean(WebhookDirectory.class);
            String account = unique("acc");
            List<String> healthy = new ArrayList<>();
            for (DisposableServer receiver : receivers) {
                healthy.add(webhook(publisher, directory, account, "http://127.0.0.1:" + receiver.port() + "/hook"));
            }
            String dead = webhook(publisher, directory, account, "http://127.0.0.1:" + closedPort + "/dead");
            String stuck = webhook(publisher, directory, account, "http://127.0.0.1:" + hanging.port() + "/hang");

            warmUp(publisher, account, healthy);
            throughput(publisher, account, healthy, 20_000);
            paced("1,000 events/s, 10 healthy endpoints", publisher, account, healthy, List.of(), 1_000, 15);
            // Below saturation, so that the isolation figure compares the endpoints, not two queues.
            paced("250 events/s, 10 healthy endpoints", publisher, account, healthy, List.of(), 250, 20);
            paced("250 events/s, 10 healthy endpoints + a dead and a hanging one (10 % of events each)", publisher,
                    account, healthy, List.of(dead, stuck), 250, 20);
        } finally {
            publisher.close();
            hanging.disposeNow();
            receivers.forEach(DisposableServer::disposeNow);
            loops.disposeLater().block(Duration.ofSeconds(10));
        }
    }

    private void warmUp(KafkaPublisher publisher, String account, List<String> healthy) {
        reset();
        publishBurst(publisher, account, healthy, 2_000);
        await().atMost(Duration.ofMinutes(5)).until(() -> arrived.get() >= 2_000);
    }

    private void throughput(KafkaPublisher publisher, String account, List<String> healthy, int events) {
        reset();
        long started = System.nanoTime();
        publishBurst(publisher, account, healthy, events);
        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(50))
                .until(() -> arrived.get() >= events);
        double seconds = (System.nanoTime() - started) / 1e9;
        report("burst of %d events to 10 endpoints: %.1f s, %.0f signed deliveries/s (publishing included)",
                events, seconds, events / seconds);
    }

    private void paced(String name, KafkaPublisher publisher, String account, List<String> healthy,
                       List<String> bad, int perSecond, int seconds) {
        reset();
        int total = perSecond * seconds;
        long started = System.nanoTime();
        // Ten events per tick; a slow publish never holds back the ticks (the offered rate is reported).
        Flux.interval(Duration.ofNanos(10_000_000_000L / perSecond))
                .onBackpressureBuffer()
                .take(total / 10)
                .flatMap(tick -> Flux.range(0, 10)
                        .map(i -> (int) (tick * 10 + i))
                        .map(n -> event(account, target(n, healthy, bad), bad.isEmpty() || n % 10 >= 2))
                        .collectList()
                        .flatMap(publisher::publishAll), 256)
                .blockLast(Duration.ofMinutes(5));
        double publishSeconds = (System.nanoTime() - started) / 1e9;
        int expected = publishedAt.size();
        await().atMost(Duration.ofMinutes(5)).until(() -> arrived.get() >= expected);
        long[] sorted = latencies.values().stream().mapToLong(Long::longValue).sorted().toArray();
        report("%s: %d healthy events published in %.1f s (%.0f/s offered), latency publish->arrival p50 %.1f ms, "
                        + "p99 %.1f ms, max %.1f ms", name, sorted.length, publishSeconds, total / publishSeconds,
                percentile(sorted, 0.50), percentile(sorted, 0.99), sorted[sorted.length - 1] / 1e6);
    }

    private static String target(int n, List<String> healthy, List<String> bad) {
        if (!bad.isEmpty() && n % 10 < bad.size()) {
            return bad.get(n % 10);
        }
        // The healthy events numbered among themselves, so that every healthy endpoint gets its share.
        int healthyEvent = n / 10 * (10 - bad.size()) + n % 10 - bad.size();
        return healthy.get(healthyEvent % healthy.size());
    }

    /** An event to the webhook; its publish time is recorded when it counts towards the healthy figures. */
    private OutboundRecord event(String account, String webhookId, boolean measured) {
        String requestId = unique("req");
        CallEvent event = CallEvent.about(command(requestId, account, webhookId)).sequence(1)
                .status(AttemptStatus.RINGING).build();
        if (measured) {
            publishedAt.put(event.eventId(), System.nanoTime());
        }
        return OutboundRecord.of(Topics.CALL_EVENTS, requestId, Contract.toBytes(event));
    }

    private void publishBurst(KafkaPublisher publisher, String account, List<String> healthy, int events) {
        List<OutboundRecord> records = new ArrayList<>(events);
        for (int n = 0; n < events; n++) {
            records.add(event(account, healthy.get(n % healthy.size()), true));
        }
        publisher.publishAll(records).block(Duration.ofMinutes(5));
    }

    private void arrival(String eventId) {
        Long sent = eventId == null ? null : publishedAt.get(eventId);
        if (sent != null && latencies.putIfAbsent(eventId, System.nanoTime() - sent) == null) {
            arrived.incrementAndGet();
        }
    }

    private void reset() {
        publishedAt.clear();
        latencies.clear();
        arrived.set(0);
    }

    private static double percentile(long[] sorted, double p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e6;
    }

    private static void report(String format, Object... values) {
        System.out.printf("BENCHMARK " + format + "%n", values);
    }

    private static String webhook(KafkaPublisher publisher, WebhookDirectory directory, String account, String url) {
        String id = unique("wh");
        WebhookConfig config = new WebhookConfig(id, account, url, "bench", newSecret(), true, Instant.now());
        publisher.publish(OutboundRecord.of(Topics.WEBHOOK_CONFIG, id, Contract.toBytes(config)))
                .block(Duration.ofSeconds(30));
        await().atMost(Duration.ofMinutes(1)).until(() -> directory.current(id) != null);
        return id;
    }

    private static ConfigurableApplicationContext start() {
        Map<String, Object> properties = new HashMap<>(Infrastructure.shared().serviceProperties());
        properties.put("spring.config.name", "webhook-service");
        properties.put("server.port", "0");
        properties.put("logging.level.dev.dialer", "ERROR");
        // The shipped configuration as it is, but for the receivers on this machine it must be allowed to call.
        properties.put("dialer.webhook.delivery.allowed-hosts", "127.0.0.1");
        String[] arguments = properties.entrySet().stream()
                .map(property -> "--" + property.getKey() + "=" + property.getValue())
                .toArray(String[]::new);
        return new SpringApplicationBuilder(WebhookApplication.class).run(arguments);
    }
}
