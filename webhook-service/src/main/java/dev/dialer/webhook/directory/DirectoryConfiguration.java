package dev.dialer.webhook.directory;

import dev.dialer.webhook.KafkaProperties;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class DirectoryConfiguration {

    @Bean
    WebhookDirectory webhookDirectory(KafkaProperties kafka, MeterRegistry registry) {
        return WebhookDirectory.reading(kafka.settings(), registry);
    }
}
