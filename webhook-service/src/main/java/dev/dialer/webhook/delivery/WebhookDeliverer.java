package dev.dialer.webhook.delivery;

import java.time.Duration;
import java.util.Map;
import java.util.function.IntFunction;
import reactor.core.publisher.Mono;

/**
 * Delivers one event to one target: a request signed with the target's secret (unsigned when it has none), repeated
 * after a doubling backoff until it succeeds (2xx only), the endpoint answers 410 Gone, or the configured attempts
 * are used up. Before every attempt the {@link TargetGuard} checks the URL again; a refused target is skipped and
 * never retried. Every attempt is written to the {@link AttemptLog} before the next one starts. Each attempt is sent
 * at most once; the event may reach the endpoint more than once (an attempt that timed out may still have arrived),
 * so it carries the same {@code webhook-id} every time. The in-line retries cover short outages only; longer ones are
 * the job of a durable retry schedule.
 */
final class WebhookDeliverer {

    private final WebhookSigner signer;
    private final WebhookTransport transport;
    private final TargetGuard guard;
    private final AttemptLog attemptLog;
    private final DeliveryMetrics metrics;
    private final int attempts;
    private final IntFunction<Duration> backoffAfter;

    WebhookDeliverer(WebhookSigner signer, WebhookTransport transport, TargetGuard guard, AttemptLog attemptLog,
                     DeliveryMetrics metrics, int attempts, IntFunction<Duration> backoffAfter) {
        this.signer = signer;
        this.transport = transport;
        this.guard = guard;
        this.attemptLog = attemptLog;
        this.metrics = metrics;
        this.attempts = attempts;
        this.backoffAfter = backoffAfter;
    }

    /** Completes with how the delivery ended; never errors. */
    Mono<DeliveryOutcome> deliver(Delivery delivery) {
        return attempt(delivery, 1);
    }

    private Mono<DeliveryOutcome> attempt(Delivery delivery, int number) {
        return guard.permits(delivery.url())
                .flatMap(permitted -> permitted ? sendAndRecord(delivery, number)
                        : Mono.just(DeliveryOutcome.skipped(Reason.FORBIDDEN_TARGET, number - 1)));
    }

    private Mono<DeliveryOutcome> sendAndRecord(Delivery delivery, int number) {
        return send(delivery)
                .flatMap(result -> record(delivery, number, result))
                .flatMap(result -> afterAttempt(delivery, number, result));
    }

    private Mono<AttemptResult> send(Delivery delivery) {
        byte[] payload = delivery.payload();
        Map<String, String> headers;
        try {
            headers = delivery.secret() == null ? signer.unsignedHeaders(delivery.eventId())
                    : signer.headers(delivery.secret(), delivery.eventId(), payload);
        } catch (IllegalArgumentException e) {
            return Mono.just(AttemptResult.failed(Reason.INVALID_TARGET, "secret is not base64", Duration.ZERO));
        }
        return transport.send(delivery.target().method(), delivery.url(), headers, payload);
    }

    private Mono<AttemptResult> record(Delivery delivery, int number, AttemptResult result) {
        metrics.attempt(result);
        return attemptLog.record(delivery.attempt(number, result)).thenReturn(result);
    }

    private Mono<DeliveryOutcome> afterAttempt(Delivery delivery, int number, AttemptResult result) {
        if (result.isFinal() || number >= attempts) {
            return Mono.just(DeliveryOutcome.after(number, result));
        }
        return Mono.delay(backoffAfter.apply(number))
                .then(Mono.defer(() -> attempt(delivery, number + 1)));
    }
}
