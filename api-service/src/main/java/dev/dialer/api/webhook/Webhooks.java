package dev.dialer.api.webhook;

import dev.dialer.api.account.Account;
import dev.dialer.api.kafka.AcknowledgedPublisher;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import java.security.SecureRandom;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import org.springframework.stereotype.Service;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

/** Creates and reads an account's webhook endpoints; every change is published to {@code dialer.webhook.config}. */
@Service
class Webhooks {

    static final String SECRET_PREFIX = "whsec_";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final WebhookRepository repository;
    private final AcknowledgedPublisher publisher;
    private final TransactionalOperator transactions;

    Webhooks(WebhookRepository repository, AcknowledgedPublisher publisher, ReactiveTransactionManager tx) {
        this.repository = repository;
        this.publisher = publisher;
        this.transactions = TransactionalOperator.create(tx);
    }

    /**
     * Stores the webhook and publishes its config in one database transaction that commits only after Kafka
     * acknowledged the record: if Kafka does not, nothing is stored and the answer is 503. (If the commit itself
     * failed after the acknowledgement, webhook-service would know a webhook nobody can reference: harmless.)
     */
    Mono<Webhook> create(Account account, String body) {
        return Mono.fromCallable(() -> WebhookRequest.parse(body))
                .map(request -> newWebhook(account, request))
                .flatMap(this::storeAndPublish);
    }

    Mono<Webhook> find(Account account, String id) {
        return repository.find(account.id(), id)
                .switchIfEmpty(Mono.error(() -> Problems.notFound("No webhook " + id + " in this account.")));
    }

    /**
     * Deletes the account's webhook and publishes its tombstone, in one transaction that commits only after Kafka
     * acknowledged the tombstone; webhook-service stops delivering to it. Calls already queued with this
     * {@code webhook_id} keep their other targets.
     */
    Mono<Void> delete(Account account, String id) {
        return repository.delete(account.id(), id)
                .flatMap(deleted -> deleted
                        ? publisher.publishAll(List.of(new OutboundRecord(Topics.WEBHOOK_CONFIG, id, null, null)))
                        : Mono.error(Problems.notFound("No webhook " + id + " in this account.")))
                .as(transactions::transactional);
    }

    private Mono<Webhook> storeAndPublish(Webhook webhook) {
        return repository.insert(webhook)
                .then(publisher.publishAll(List.of(configRecord(webhook))))
                .thenReturn(webhook)
                .as(transactions::transactional);
    }

    private static OutboundRecord configRecord(Webhook webhook) {
        return OutboundRecord.of(Topics.WEBHOOK_CONFIG, webhook.id(), Contract.toBytes(webhook.config()));
    }

    private static Webhook newWebhook(Account account, WebhookRequest request) {
        // PostgreSQL keeps microseconds: truncating makes the answer equal to what is read back later.
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return new Webhook(UUID.randomUUID().toString(), account.id(), request.url(), request.description(),
                newSecret(), true, now, now);
    }

    /** Standard Webhooks form: {@code whsec_} and the base64 of 32 random bytes. */
    static String newSecret() {
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        return SECRET_PREFIX + Base64.getEncoder().encodeToString(random);
    }
}
