package dev.dialer.api.delivery;

import dev.dialer.api.problem.Problems;
import dev.dialer.api.webhook.WebhookDirectory;
import dev.dialer.api.webhook.WebhookDisabler;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DeliveryAttempt;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

/**
 * The delivery log read model: records the attempts webhook-service publishes and serves them per webhook. An
 * attempt that disabled its endpoint disables the webhook here too, so the API shows it and the republished
 * {@code WebhookConfig} carries {@code enabled=false} with the reason.
 */
@Service
class DeliveryLog {

    private static final Logger log = LoggerFactory.getLogger(DeliveryLog.class);
    /** Attempts the log took, by {@code outcome}: recorded, duplicate, skipped_..., refused. */
    static final String RECORDS = "dialer.api.delivery.log.records";
    static final String GONE = "gone";
    static final String FAILING = "failing";

    private final DeliveryLogRepository repository;
    private final WebhookDirectory webhooks;
    private final WebhookDisabler disabler;
    private final TransactionalOperator transactions;
    private final MeterRegistry registry;

    DeliveryLog(DeliveryLogRepository repository, WebhookDirectory webhooks, WebhookDisabler disabler,
                ReactiveTransactionManager tx, MeterRegistry registry) {
        this.repository = repository;
        this.webhooks = webhooks;
        this.disabler = disabler;
        this.transactions = TransactionalOperator.create(tx);
        this.registry = registry;
    }

    /**
     * Records one {@code dialer.webhook.deliveries} value; at least once and idempotent on {@code attempt_id}, so a
     * record read twice changes nothing the second time. An attempt to a per-request hook is skipped and counted (no
     * webhook's log shows it); a value that is not a delivery attempt is skipped, logged and counted: the log has
     * nowhere to put it, and it must not stop the consumer. A database or
     * Kafka failure errors, so the record is not acknowledged and is read again.
     */
    Mono<Void> record(byte[] value) {
        DeliveryAttempt attempt;
        try {
            attempt = Contract.read(value, DeliveryAttempt.class);
        } catch (RuntimeException e) {
            return skip("unreadable", e.getMessage());
        }
        if (attempt != null && attempt.webhookId() == null && attempt.attemptId() != null) {
            // A per-request hook (notify_url, action_hook, amd_hook) has no webhook whose log could show it: expected.
            count("skipped_hook");
            return Mono.empty();
        }
        String problem = problemOf(attempt);
        if (problem != null) {
            return skip("invalid", problem);
        }
        DeliveryRecord row = DeliveryRecord.of(attempt);
        // The disable is a change of its own, published apart from the attempt's row (a disable Kafka acknowledged too
        // late is undone by publishing the webhook's committed state): made at every handling of the attempt, so that
        // one that failed after the row was stored is made when the record is read again; a repeat changes nothing.
        return repository.insert(row)
                .as(transactions::transactional)
                .doOnNext(inserted -> count(inserted ? "recorded" : "duplicate"))
                .flatMap(inserted -> row.endpointDisabled() ? disable(row) : Mono.empty())
                .then();
    }

    /** A page of the account's webhook's log; a webhook of another account is not found. */
    Mono<DeliveryPage> page(String accountId, String webhookId, DeliveryQuery query) {
        return webhooks.belongsTo(webhookId, accountId)
                .flatMap(own -> own ? repository.page(accountId, webhookId, query).collectList()
                        : Mono.error(Problems.notFound("No webhook " + webhookId + " in this account.")))
                .map(rows -> DeliveryPage.of(rows, query.limit()));
    }

    private Mono<Boolean> disable(DeliveryRecord row) {
        String reason = Integer.valueOf(410).equals(row.statusCode()) ? GONE : FAILING;
        return disabler.disable(row.accountId(), row.webhookId(), reason, row.attemptedAt());
    }

    private Mono<Void> skip(String why, String detail) {
        log.warn("delivery log skips a {} record: {}", why, detail);
        count("skipped_" + why);
        return Mono.empty();
    }

    private void count(String outcome) {
        registry.counter(RECORDS, "outcome", outcome).increment();
    }

    private static String problemOf(DeliveryAttempt attempt) {
        if (attempt == null) {
            return "empty value";
        }
        String missing = attempt.attemptId() == null ? "attempt_id"
                : attempt.webhookId() == null ? "webhook_id"
                : attempt.eventId() == null ? "event_id"
                : attempt.accountId() == null ? "account_id"
                : attempt.target() == null ? "target"
                : attempt.outcome() == null ? "outcome"
                : attempt.attemptedAt() == null ? "attempted_at" : null;
        return missing == null ? null : "attempt " + attempt.attemptId() + " has no " + missing;
    }

    /** Rows of one page and the cursor of the next. */
    record DeliveryPage(List<DeliveryRecord> rows, String nextCursor) {

        static DeliveryPage of(List<DeliveryRecord> rows, int limit) {
            if (rows.size() <= limit) {
                return new DeliveryPage(rows, null);
            }
            List<DeliveryRecord> page = rows.subList(0, limit);
            DeliveryRecord last = page.get(limit - 1);
            return new DeliveryPage(List.copyOf(page),
                    new DeliveryQuery.Position(last.attemptedAt(), last.attemptId()).cursor());
        }
    }
}
