package dev.dialer.api.calls;

import dev.dialer.common.kafka.ConsumerGroupLag;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** How far the calls' read model is behind the events, measured by every instance that reads them. */
@Configuration(proxyBeanMethods = false)
// Only where this instance consumes: a group no instance consumes on purpose would count as lag growing for ever.
@ConditionalOnProperty(name = "dialer.api.read-model.enabled", havingValue = "true", matchIfMissing = true)
class ReadModelLagConfiguration {

    /** {@code dialer.kafka.consumer.lag} of the events the read model's group has yet to take. */
    @Bean(initMethod = "start", destroyMethod = "close")
    ConsumerGroupLag readModelLag(KafkaSettings settings, ReadModelProperties readModel, MeterRegistry registry) {
        return new ConsumerGroupLag(settings, readModel.consumerGroup(), List.of(Topics.CALL_EVENTS), registry,
                ConsumerGroupLag.DEFAULT_INTERVAL);
    }
}
