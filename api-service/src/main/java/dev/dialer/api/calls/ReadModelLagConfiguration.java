package dev.dialer.api.calls;

import dev.dialer.common.kafka.ConsumerGroupLag;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** How far the calls' read model is behind the events, measured on every instance, reading or not. */
@Configuration(proxyBeanMethods = false)
class ReadModelLagConfiguration {

    /** {@code dialer.kafka.consumer.lag} of the events the read model's group has yet to take. */
    @Bean(initMethod = "start", destroyMethod = "close")
    ConsumerGroupLag readModelLag(KafkaSettings settings, ReadModelProperties readModel, MeterRegistry registry) {
        return new ConsumerGroupLag(settings, readModel.consumerGroup(), List.of(Topics.CALL_EVENTS), registry,
                ConsumerGroupLag.DEFAULT_INTERVAL);
    }
}
