package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class WebhookDelivererTest {

    private static final Delivery DELIVERY = new Delivery("ev-1", webhook("http://receiver.test/hook",
            WebhookSignerTest.newSecret()), "req-1", "acc-1",
            "{\"event_id\":\"ev-1\"}".getBytes(StandardCharsets.UTF_8));
    /** receiver.test resolves to a public address; internal.test to the cloud metadata address. */
    private static final TargetGuard GUARD = new TargetGuard(new AllowList(List.of()), host -> new InetAddress[] {
            InetAddress.getByName(host.equals("internal.test") ? "169.254.169.254" : "93.184.216.34")});

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<AttemptRecord> logged = new CopyOnWriteArrayList<>();
    private final List<Map<String, String>> sentHeaders = new CopyOnWriteArrayList<>();
    private final List<String> sentMethods = new CopyOnWriteArrayList<>();

    @Test
    void retriesAfterADoublingBackoffUntilTheEndpointAnswers2xx() {
        WebhookDeliverer deliverer = deliverer(3, 500, 503, 204);

        StepVerifier.withVirtualTime(() -> deliverer.deliver(DELIVERY))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(1).plus(Duration.ofSeconds(2)).minusMillis(1))
                .thenAwait(Duration.ofMillis(1))
                .assertNext(outcome -> assertThat(outcome).isEqualTo(
                        new DeliveryOutcome(DeliveryOutcome.Status.DELIVERED, Reason.OK, 3, 204)))
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        assertThat(logged).extracting(AttemptRecord::attemptNo, AttemptRecord::statusCode)
                .containsExactly(tuple(1, 500), tuple(2, 503), tuple(3, 204));
        assertThat(sentHeaders).extracting(headers -> headers.get("webhook-id")).containsOnly("ev-1");
    }

    @Test
    void givesUpAfterTheConfiguredAttempts() {
        WebhookDeliverer deliverer = deliverer(3, 500, 500, 500, 200);

        StepVerifier.withVirtualTime(() -> deliverer.deliver(DELIVERY))
                .thenAwait(Duration.ofMinutes(1))
                .assertNext(outcome -> assertThat(outcome).isEqualTo(
                        new DeliveryOutcome(DeliveryOutcome.Status.FAILED, Reason.HTTP_STATUS, 3, 500)))
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        assertThat(logged).hasSize(3);
        assertThat(registry.get("dialer.webhook.delivery.latency").tag("outcome", "failed").timer().count())
                .isEqualTo(3);
    }

    @Test
    void aSuccessfulFirstAttemptIsNotRepeated() {
        WebhookDeliverer deliverer = deliverer(3, 200, 200);

        StepVerifier.create(deliverer.deliver(DELIVERY))
                .assertNext(outcome -> assertThat(outcome.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED))
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        assertThat(sentHeaders).hasSize(1);
        assertThat(logged).extracting(AttemptRecord::attemptNo).containsExactly(1);
    }

    @Test
    void anUnusableSecretFailsWithoutSendingAnything() {
        WebhookDeliverer deliverer = deliverer(1, 200);
        Delivery badSecret = new Delivery("ev-2", webhook("http://receiver.test/hook", "whsec_%%%"), "req-1",
                "acc-1", new byte[] {'{', '}'});

        StepVerifier.create(deliverer.deliver(badSecret))
                .assertNext(outcome -> assertThat(outcome.reason()).isEqualTo(Reason.INVALID_TARGET))
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        assertThat(sentHeaders).isEmpty();
        assertThat(logged).singleElement().satisfies(row -> assertThat(row.error()).contains("secret"));
    }

    @Test
    void a410GoneStopsAfterOneAttempt() {
        WebhookDeliverer deliverer = deliverer(3, 410, 200);

        StepVerifier.create(deliverer.deliver(DELIVERY))
                .assertNext(outcome -> assertThat(outcome).isEqualTo(
                        new DeliveryOutcome(DeliveryOutcome.Status.FAILED, Reason.GONE, 1, 410)))
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        assertThat(logged).extracting(AttemptRecord::statusCode).containsExactly(410);
    }

    @Test
    void aTargetResolvingToTheMetadataAddressIsSkippedWithoutAnyAttempt() {
        WebhookDeliverer deliverer = deliverer(3, 200);
        Delivery internal = new Delivery("ev-3", webhook("http://internal.test/latest/meta-data?token=x",
                WebhookSignerTest.newSecret()), "req-1", "acc-1", new byte[] {'{', '}'});

        StepVerifier.create(deliverer.deliver(internal))
                .assertNext(outcome -> assertThat(outcome).isEqualTo(
                        new DeliveryOutcome(DeliveryOutcome.Status.SKIPPED, Reason.FORBIDDEN_TARGET, 0, null)))
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        assertThat(sentHeaders).isEmpty();
        assertThat(logged).isEmpty();
    }

    @Test
    void aHookWithoutSecretIsSentUnsignedWithItsMethod() {
        WebhookDeliverer deliverer = deliverer(1, 200);
        Delivery hook = new Delivery("ev-4", new Target(Target.Kind.NOTIFY, "notify", "http://receiver.test/n",
                "PUT", null), "req-1", "acc-1", new byte[] {'{', '}'});

        StepVerifier.create(deliverer.deliver(hook))
                .assertNext(outcome -> assertThat(outcome.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED))
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        assertThat(sentMethods).containsExactly("PUT");
        assertThat(sentHeaders).singleElement().satisfies(headers -> {
            assertThat(headers).containsEntry("webhook-id", "ev-4").containsKey("webhook-timestamp");
            assertThat(headers).doesNotContainKey("webhook-signature");
        });
        assertThat(logged).extracting(AttemptRecord::webhookId).containsExactly("notify");
    }

    private static Target webhook(String url, String secret) {
        return new Target(Target.Kind.WEBHOOK, "wh-1", url, "POST", secret);
    }

    private WebhookDeliverer deliverer(int attempts, Integer... statuses) {
        Deque<Integer> answers = new ArrayDeque<>(Arrays.asList(statuses));
        WebhookTransport transport = (method, url, headers, body) -> Mono.fromSupplier(() -> {
            sentHeaders.add(headers);
            sentMethods.add(method);
            return AttemptResult.answered(answers.removeFirst(), Duration.ofMillis(5));
        });
        AttemptLog attemptLog = attempt -> Mono.fromRunnable(() -> logged.add(attempt));
        DeliveryProperties properties = new DeliveryProperties(Duration.ofSeconds(5), Duration.ofSeconds(15),
                attempts, Duration.ofSeconds(1), Duration.ofSeconds(10), null, List.of());
        return new WebhookDeliverer(new WebhookSigner(Clock.systemUTC()), transport, GUARD, attemptLog,
                new DeliveryMetrics(registry), attempts, properties::backoffAfter);
    }
}
