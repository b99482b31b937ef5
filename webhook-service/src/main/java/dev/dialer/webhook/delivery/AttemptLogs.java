package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.DeliveryAttempt;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Records each try in several logs at once; completes when all have (none of them errors). */
final class AttemptLogs implements AttemptLog {

    private final List<AttemptLog> logs;

    AttemptLogs(List<AttemptLog> logs) {
        this.logs = List.copyOf(logs);
    }

    @Override
    public Mono<Void> record(DeliveryAttempt attempt) {
        return Flux.fromIterable(logs)
                .flatMap(log -> log.record(attempt), logs.size())
                .then();
    }
}
