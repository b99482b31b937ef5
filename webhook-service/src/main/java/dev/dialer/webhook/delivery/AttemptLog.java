package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.DeliveryAttempt;
import reactor.core.publisher.Mono;

/** Where every HTTP try is recorded. */
interface AttemptLog {

    /** Completes once the try is recorded; never errors (losing a log row must not resend an event). */
    Mono<Void> record(DeliveryAttempt attempt);
}
