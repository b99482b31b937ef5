package dev.dialer.webhook.delivery;

import reactor.core.publisher.Mono;

/** Where every HTTP attempt is recorded. */
interface AttemptLog {

    /** Completes once the attempt is recorded; never errors (losing a log row must not resend an event). */
    Mono<Void> record(AttemptRecord attempt);
}
