package dev.dialer.api.kafka;

import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.TopicProvisioner;
import dev.dialer.common.kafka.Topics;
import java.time.Duration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The one Kafka producer of api-service, created after the topics exist. */
@Configuration(proxyBeanMethods = false)
class CommandsKafka {

    @Bean(destroyMethod = "close")
    KafkaPublisher kafkaPublisher(KafkaProperties kafka, dev.dialer.api.ApiProperties api) {
        if (kafka.provisionTopics()) {
            TopicProvisioner.ensure(kafka.bootstrapServers(), Topics.all(kafka.partitions()),
                    (short) kafka.replicationFactor(), 30_000);
        }
        Duration timeout = api.kafka().ackTimeout();
        return KafkaPublisher.create(KafkaSettings.of(kafka.bootstrapServers()), "dialer-api", timeout);
    }
}
