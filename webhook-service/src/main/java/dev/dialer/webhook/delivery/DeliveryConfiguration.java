package dev.dialer.webhook.delivery;

import dev.dialer.webhook.KafkaProperties;
import dev.dialer.webhook.directory.WebhookDirectory;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.r2dbc.core.DatabaseClient;

@Configuration(proxyBeanMethods = false)
class DeliveryConfiguration {

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
    WebhookDeliverer webhookDeliverer(HttpWebhookTransport transport, DeliveryLog deliveryLog,
                                      DeliveryMetrics metrics, DeliveryProperties properties) {
        return new WebhookDeliverer(new WebhookSigner(Clock.systemUTC()), transport, deliveryLog, metrics,
                properties.attempts(), properties::backoffAfter);
    }

    @Bean
    CallEventConsumer callEventConsumer(KafkaProperties kafka, WebhookDirectory directory,
                                        WebhookDeliverer deliverer, DeliveryProperties properties,
                                        DeliveryMetrics metrics) {
        return new CallEventConsumer(kafka.settings(), kafka.partitions(), directory, deliverer,
                properties.lookupWait(), metrics);
    }
}
