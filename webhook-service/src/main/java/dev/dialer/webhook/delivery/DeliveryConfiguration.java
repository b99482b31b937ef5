package dev.dialer.webhook.delivery;

import dev.dialer.common.hook.AllowList;
import dev.dialer.common.hook.HookSecrets;
import dev.dialer.common.kafka.ConsumerGroupLag;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.Topics;
import dev.dialer.webhook.KafkaProperties;
import dev.dialer.webhook.directory.WebhookDirectory;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

@Configuration(proxyBeanMethods = false)
class DeliveryConfiguration {

    private static final Logger log = LoggerFactory.getLogger(DeliveryConfiguration.class);
    private static final Duration ATTEMPT_PUBLISH_TIMEOUT = Duration.ofSeconds(10);
    /** The shared hook secret's property, replaced by the signing key. */
    private static final String RETIRED_HOOK_SECRET = "dialer.webhook.delivery.hook-secret";

    /** How often disables not yet acknowledged by the broker are published again (see DisableAnnouncements). */
    private static final Duration DISABLE_ANNOUNCEMENT_INTERVAL = Duration.ofSeconds(10);

    @Bean
    Clock deliveryClock() {
        return Clock.systemUTC();
    }

    @Bean
    DeliveryMetrics deliveryMetrics(MeterRegistry registry) {
        return new DeliveryMetrics(registry);
    }

    /** The webhooks' own DNS resolver (closed with the context); each lookup is bounded by the guard. */
    @Bean
    DnsLookups dnsLookups() {
        return new DnsLookups();
    }

    @Bean
    TargetGuard targetGuard(DeliveryProperties properties, DnsLookups dns) {
        // A malformed allow-list entry fails start-up: guessing what it meant could open an internal address.
        // A lookup is part of connecting: it may take as long as a connection may take to open.
        return TargetGuard.resolvingWithDns(new AllowList(properties.allowedHosts()), properties.plainHttp(), dns,
                properties.connectTimeout());
    }

    @Bean
    HttpWebhookTransport webhookTransport(DeliveryProperties properties, TargetGuard guard) {
        return new HttpWebhookTransport(properties.connectTimeout(), properties.totalTimeout(),
                Math.toIntExact(properties.responseBodyLimit().toBytes()), properties.responseBodyTimeout(),
                new GuardedAddressResolverGroup(guard));
    }

    @Bean
    DeliveryLog deliveryLog(DatabaseClient database, DeliveryMetrics metrics) {
        return new DeliveryLog(database, metrics);
    }

    /** Derives each account's hook secret, or sends hooks unsigned without a key; a malformed key fails start-up. */
    @Bean
    TargetResolver targetResolver(DeliveryProperties properties, Environment environment, EndpointHealth health) {
        if (environment.containsProperty(RETIRED_HOOK_SECRET)) {
            // The one secret every customer shared could sign any customer's hooks; hooks now use per-account
            // secrets, so the value must be a key, and every customer's receiver needs its new secret.
            throw new IllegalStateException(RETIRED_HOOK_SECRET + " is no longer read: set "
                    + "dialer.webhook.delivery.hook-signing-key (and dialer.api.hooks.signing-key) instead; each "
                    + "account then reads its own hook secret from GET /api/v2/account/hook-secret");
        }
        if (properties.hookSigningKey() == null || properties.hookSigningKey().isBlank()) {
            log.warn("dialer.webhook.delivery.hook-signing-key is not set: notify_url, action_hook and amd_hook "
                    + "deliveries are sent unsigned");
            return new TargetResolver(null, health::heldDisabled);
        }
        return new TargetResolver(HookSecrets.derivedFrom(properties.hookSigningKey()), health::heldDisabled);
    }

    /**
     * The service's one producer: delivery attempts, disables and the DLQ copies of bad records. Closed by the context
     * at shutdown (close() is inferred), after the pipelines have stopped.
     */
    @Bean
    KafkaPublisher attemptPublisher(KafkaProperties kafka) {
        return KafkaPublisher.create(kafka.settings(), "webhook-service-attempts", ATTEMPT_PUBLISH_TIMEOUT);
    }

    @Bean
    AttemptFeed attemptFeed(KafkaPublisher attemptPublisher, DeliveryMetrics metrics,
                            DeliveryProperties properties) {
        return new AttemptFeed(attemptPublisher::publish, metrics,
                Math.toIntExact(properties.publishedBodyLimit().toBytes()));
    }

    /** Runs in the pipelines, which start it once deliveries may start. */
    @Bean
    DisableAnnouncements disableAnnouncements(DatabaseClient database, KafkaPublisher attemptPublisher,
                                              AttemptFeed attemptFeed, DeliveryMetrics metrics) {
        return new DisableAnnouncements(database, attemptPublisher::publish, attemptFeed, metrics,
                DISABLE_ANNOUNCEMENT_INTERVAL);
    }

    @Bean
    RetryStore retryStore(DatabaseClient database, ReactiveTransactionManager transactions, DeliveryMetrics metrics) {
        return new RetryStore(database, TransactionalOperator.create(transactions), metrics);
    }

    @Bean
    EventStore eventStore(DatabaseClient database) {
        return new EventStore(database);
    }

    @Bean
    EndpointHealth endpointHealth(DatabaseClient database, HealthProperties properties, WebhookDirectory directory,
                                  Clock clock, DeliveryMetrics metrics) {
        EndpointHealth health = new EndpointHealth(database, properties, new DisabledNotice(directory::subscribers),
                clock);
        metrics.disabledEndpoints(() -> health.disabledCount(directory::current, directory.webhooks()));
        return health;
    }

    @Bean
    EndpointIsolation endpointIsolation(IsolationProperties properties, DeliveryMetrics metrics) {
        return new EndpointIsolation(properties, metrics);
    }

    @Bean
    HeldTargets heldTargets(EndpointIsolation isolation, DeliveryMetrics metrics) {
        HeldTargets held = new HeldTargets(isolation);
        metrics.heldTargets(held::size);
        return held;
    }

    @Bean
    RetrySchedule retrySchedule(RetryProperties retry) {
        return new RetrySchedule(retry, () -> ThreadLocalRandom.current().nextDouble());
    }

    @Bean
    WebhookDeliverer webhookDeliverer(HttpWebhookTransport transport, TargetGuard guard, EndpointIsolation isolation,
                                      HeldTargets held, DeliveryLog deliveryLog, AttemptFeed attemptFeed,
                                      RetryStore store, EndpointHealth health, WebhookDirectory directory,
                                      DeliveryMetrics metrics, DeliveryProperties delivery, RetryProperties retry,
                                      TargetResolver resolver, RetrySchedule schedule, Clock clock) {
        return new WebhookDeliverer(new WebhookSigner(clock), transport, guard, isolation, held,
                new AttemptLogs(List.of(deliveryLog, attemptFeed)), store, schedule, health, directory,
                metrics, new WebhookDeliverer.Settings(resolver.hookSecrets(), delivery.maxPayload().toBytes(),
                retry.refusalDelay()), clock);
    }

    @Bean
    CallEventConsumer callEventConsumer(KafkaProperties kafka, WebhookDirectory directory, TargetResolver resolver,
                                        WebhookDeliverer deliverer, RetryStore store, EventStore events,
                                        DeliveryProperties delivery, RetryProperties retry, DeliveryMetrics metrics,
                                        KafkaPublisher attemptPublisher, Clock clock) {
        return new CallEventConsumer(kafka.settings(), directory, resolver, deliverer, store,
                events, delivery.lookupWait(), retry.scaled(retry.orderingWait()), metrics,
                new BadRecords(BadRecords.Source.EVENTS, attemptPublisher, metrics), clock);
    }

    @Bean
    RetryPoller retryPoller(RetryStore store, WebhookDeliverer deliverer, HeldTargets held, RetryProperties retry,
                            DeliveryProperties delivery, IsolationProperties isolation, DeliveryMetrics metrics,
                            DeliveryLog deliveryLog, EventStore events, HealthProperties health,
                            EndpointHealth endpoints, WebhookDirectory directory, RetrySchedule schedule,
                            Clock clock) {
        RetryPoller.Housekeeping housekeeping = () -> Mono.when(
                deliveryLog.purge(clock.instant().minus(health.attemptRetention())),
                events.purge(clock.instant().minus(health.eventRetention())),
                store.purgeDeadLetters(clock.instant().minus(health.deadLetterRetention())),
                // A mark outlives its event by a purge: a request handled again finds either the mark or no event.
                store.purgeReplayMarks(clock.instant().minus(health.eventRetention()).minus(health.purgeInterval())),
                // The poller starts once the directory has caught up: a webhook it lacks then is gone, not unread.
                endpoints.forgetDeleted(id -> directory.current(id) != null));
        return new RetryPoller(store, deliverer::deliverClaimed, retry, delivery.lease(), metrics, housekeeping,
                health.purgeInterval(), held::current, new RetriesInFlight(isolation.maxConcurrentPerEndpoint(),
                isolation.maxConcurrentPerAccount()),
                new RetryPoller.Expiry(held::shut, () -> clock.instant().minus(schedule.span())));
    }

    @Bean
    ReplayConsumer replayConsumer(KafkaProperties kafka, WebhookDirectory directory, EventStore events,
                                  RetryStore store, DeliveryMetrics metrics, ReplayProperties replay,
                                  KafkaPublisher attemptPublisher, Clock clock) {
        return new ReplayConsumer(kafka.settings(), directory, events, store, metrics,
                new BadRecords(BadRecords.Source.REPLAYS, attemptPublisher, metrics), clock, replay.pageSize());
    }

    /** {@code dialer.kafka.consumer.lag} of the events webhook delivery has yet to take. */
    @Bean(initMethod = "start", destroyMethod = "close")
    ConsumerGroupLag callEventsLag(KafkaProperties kafka, MeterRegistry registry) {
        return new ConsumerGroupLag(kafka.settings(), CallEventConsumer.GROUP, List.of(Topics.CALL_EVENTS), registry,
                ConsumerGroupLag.DEFAULT_INTERVAL);
    }

    /** {@code dialer.kafka.consumer.lag} of the replay requests webhook-service has yet to take. */
    @Bean(initMethod = "start", destroyMethod = "close")
    ConsumerGroupLag replaysLag(KafkaProperties kafka, MeterRegistry registry) {
        return new ConsumerGroupLag(kafka.settings(), ReplayConsumer.GROUP, List.of(Topics.WEBHOOK_CONTROL), registry,
                ConsumerGroupLag.DEFAULT_INTERVAL);
    }

    /** Loads the durable endpoint state; the pipelines start only after it. */
    @Bean
    EndpointStateLoader endpointStateLoader(EndpointHealth health) {
        return new EndpointStateLoader(health);
    }
}
