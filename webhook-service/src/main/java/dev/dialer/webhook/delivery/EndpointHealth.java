package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.WebhookConfig;
import io.r2dbc.spi.Readable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.Parameter;
import reactor.core.publisher.Mono;

/**
 * Whether a webhook's endpoint may be called, durable in {@code webhook.endpoint_state}: a 410 Gone disables it at
 * once; {@code disable-after-failures} consecutive failed tries (of any events) disable it once the first of them is
 * at least {@code disable-after} old; a success resets the count. api-service owns the configuration topic, so the
 * disable lives here, and a configuration of the webhook written after the disable with {@code enabled: true} (the
 * customer re-enabling it) lifts it. The table is mirrored in memory (loaded at start-up); every change is written
 * through.
 */
final class EndpointHealth {

    /** Why a webhook was disabled: the {@code disabled_reason} api-service shows. */
    static final String GONE = "gone";
    static final String FAILING = "failing";

    private record State(int failures, Instant firstFailureAt, Instant disabledAt, String reason) {
        boolean disabled() {
            return disabledAt != null;
        }
    }

    private final DatabaseClient database;
    private final HealthProperties properties;
    private final Clock clock;
    private final Map<String, State> states = new ConcurrentHashMap<>();

    EndpointHealth(DatabaseClient database, HealthProperties properties, Clock clock) {
        this.database = database;
        this.properties = properties;
        this.clock = clock;
    }

    /** Reads the table into memory; run once before deliveries start. */
    Mono<Void> load() {
        return database.sql("SELECT * FROM webhook.endpoint_state")
                .map(row -> Map.entry(row.get("webhook_id", String.class), state(row)))
                .all()
                .doOnNext(entry -> states.put(entry.getKey(), entry.getValue()))
                .then();
    }

    /**
     * Whether the webhook is disabled here. A configuration newer than the disable that has the webhook enabled lifts
     * the disable (and deletes it from the table).
     */
    Mono<Boolean> disabled(WebhookConfig config) {
        State state = states.get(config.id());
        if (state == null || !state.disabled()) {
            return Mono.just(false);
        }
        if (config.enabled() && config.updatedAt() != null && config.updatedAt().isAfter(state.disabledAt())) {
            states.remove(config.id(), state);
            return delete(config.id()).thenReturn(false);
        }
        return Mono.just(true);
    }

    /** Webhooks disabled here. */
    long disabledCount() {
        return states.values().stream().filter(State::disabled).count();
    }

    /** Completes with true when this disabled the webhook (false when it already was). */
    Mono<Boolean> disable(String webhookId, String reason) {
        Instant now = clock.instant();
        AtomicBoolean changed = new AtomicBoolean();
        State state = states.compute(webhookId, (id, old) -> {
            if (old != null && old.disabled()) {
                return old;
            }
            changed.set(true);
            return new State(old == null ? 0 : old.failures(), old == null ? null : old.firstFailureAt(), now, reason);
        });
        return changed.get() ? write(webhookId, state).thenReturn(true) : Mono.just(false);
    }

    /** Counts a failed try; completes with true when the failures disabled the webhook just now. */
    Mono<Boolean> failed(String webhookId) {
        Instant now = clock.instant();
        AtomicBoolean disabledNow = new AtomicBoolean();
        State state = states.compute(webhookId, (id, old) -> {
            if (old != null && old.disabled()) {
                return old;
            }
            int failures = old == null ? 1 : old.failures() + 1;
            Instant first = old == null || old.firstFailureAt() == null ? now : old.firstFailureAt();
            boolean sustained = failures >= properties.disableAfterFailures()
                    && Duration.between(first, now).compareTo(properties.disableAfter()) >= 0;
            disabledNow.set(sustained);
            return new State(failures, first, sustained ? now : null, sustained ? FAILING : null);
        });
        return write(webhookId, state).thenReturn(disabledNow.get());
    }

    /** A successful try: the failure count starts again. */
    Mono<Void> succeeded(String webhookId) {
        State state = states.get(webhookId);
        if (state == null || state.disabled()) {
            return Mono.empty();
        }
        states.remove(webhookId, state);
        return delete(webhookId);
    }

    private Mono<Void> write(String webhookId, State state) {
        return database.sql("""
                        INSERT INTO webhook.endpoint_state (webhook_id, failures, first_failure_at, disabled_at,
                            disabled_reason)
                        VALUES (:id, :failures, :first, :disabledAt, :reason)
                        ON CONFLICT (webhook_id) DO UPDATE SET failures = EXCLUDED.failures,
                            first_failure_at = EXCLUDED.first_failure_at, disabled_at = EXCLUDED.disabled_at,
                            disabled_reason = EXCLUDED.disabled_reason""")
                .bind("id", webhookId)
                .bind("failures", state.failures())
                .bind("first", Parameter.fromOrEmpty(state.firstFailureAt(), Instant.class))
                .bind("disabledAt", Parameter.fromOrEmpty(state.disabledAt(), Instant.class))
                .bind("reason", Parameter.fromOrEmpty(state.reason(), String.class))
                .then();
    }

    private Mono<Void> delete(String webhookId) {
        return database.sql("DELETE FROM webhook.endpoint_state WHERE webhook_id = :id").bind("id", webhookId).then();
    }

    private static State state(Readable row) {
        return new State(row.get("failures", Integer.class), row.get("first_failure_at", Instant.class),
                row.get("disabled_at", Instant.class), row.get("disabled_reason", String.class));
    }
}
