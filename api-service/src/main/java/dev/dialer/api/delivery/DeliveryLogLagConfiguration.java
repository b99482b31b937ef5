package dev.dialer.api.delivery;

import dev.dialer.common.kafka.ConsumerGroupLag;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** How far the delivery log is behind webhook-service's delivery attempts. */
@Configuration(proxyBeanMethods = false)
// Only where this instance consumes: a group no instance consumes on purpose would count as lag growing for ever.
@ConditionalOnProperty(name = "dialer.api.deliveries.consume", havingValue = "true", matchIfMissing = true)
class DeliveryLogLagConfiguration {

    /** {@code dialer.kafka.consumer.lag} of the delivery attempts the delivery log's group has yet to take. */
    @Bean(initMethod = "start", destroyMethod = "close")
    ConsumerGroupLag deliveryLogLag(KafkaSettings settings, DeliveryProperties deliveries, MeterRegistry registry) {
        return new ConsumerGroupLag(settings, deliveries.groupId(), List.of(Topics.WEBHOOK_DELIVERIES), registry,
                ConsumerGroupLag.DEFAULT_INTERVAL);
    }
}
