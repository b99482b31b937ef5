package dev.dialer.webhook.delivery;

import dev.dialer.webhook.KafkaProperties;
import dev.dialer.webhook.directory.WebhookDirectory;
import io.micrometer.core.instrument.MeterRegistry;
import dev.dialer.common.kafka.KafkaPublisher;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.r2dbc.core.DatabaseClient;

@Configuration(proxyBeanMethods = false)
class DeliveryConfiguration {

    private static final Logger log = LoggerFactory.getLogger(DeliveryConfiguration.class);
    private static final Duration ATTEMPT_PUBLISH_TIMEOUT = Duration.ofSeconds(10);

    @Bean
    DeliveryMetrics deliveryMetrics(MeterRegistry registry) {
        return new DeliveryMetrics(registry);
    }

    @Bean
    HttpWebhookTransport webhookTransport(DeliveryProperties properties) {
        return new HttpWebhookTransport(properties.connectTimeout(), properties.totalTimeout());
    }

    @Bean
    DeliveryLog deliveryLog(DatabaseClient database, DeliveryMetrics metrics) {
        return new DeliveryLog(database, metrics);
    }

    @Bean
    TargetGuard targetGuard(DeliveryProperties properties) {
        // A malformed allow-list entry fails start-up: guessing what it meant could open an internal address.
        return TargetGuard.resolvingWithDns(new AllowList(properties.allowedHosts()));
    }

    @Bean
    TargetResolver targetResolver(DeliveryProperties properties) {
        if (properties.hookSecret() == null || properties.hookSecret().isBlank()) {
            log.warn("dialer.webhook.delivery.hook-secret is not set: notify_url and action_hook deliveries are "
                    + "sent unsigned");
        }
        return new TargetResolver(properties.hookSecret());
    }

    /** Closed by the context at shutdown (close() is inferred), after the pipelines have stopped. */
    @Bean
    KafkaPublisher attemptPublisher(KafkaProperties kafka) {
        return KafkaPublisher.create(kafka.settings(), "webhook-service-attempts", ATTEMPT_PUBLISH_TIMEOUT);
    }

    @Bean
    AttemptFeed attemptFeed(KafkaPublisher attemptPublisher, DeliveryMetrics metrics) {
        return new AttemptFeed(attemptPublisher::publish, metrics);
    }

    @Bean
    WebhookDeliverer webhookDeliverer(HttpWebhookTransport transport, TargetGuard guard, DeliveryLog deliveryLog,
                                      AttemptFeed attemptFeed, DeliveryMetrics metrics,
                                      DeliveryProperties properties) {
        return new WebhookDeliverer(new WebhookSigner(Clock.systemUTC()), transport, guard,
                new AttemptLogs(List.of(deliveryLog, attemptFeed)), metrics, properties.attempts(),
                properties::backoffAfter);
    }

    @Bean
    CallEventConsumer callEventConsumer(KafkaProperties kafka, WebhookDirectory directory, TargetResolver resolver,
                                        WebhookDeliverer deliverer, DeliveryProperties properties,
                                        DeliveryMetrics metrics) {
        return new CallEventConsumer(kafka.settings(), kafka.partitions(), directory, resolver, deliverer,
                properties.lookupWait(), metrics);
    }
}
