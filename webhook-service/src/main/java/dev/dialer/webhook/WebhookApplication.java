package dev.dialer.webhook;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * webhook-service: consumes call events and delivers them, signed, to the webhooks the requests name. Its
 * configuration file is {@code webhook-service.yml} (not {@code application.yml}) so that it can share one
 * classpath with the other services.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class WebhookApplication {

    public static void main(String[] args) {
        new SpringApplicationBuilder(WebhookApplication.class)
                .properties("spring.config.name=webhook-service")
                .run(args);
    }
}
