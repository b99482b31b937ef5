package dev.dialer.webhook;

import dev.dialer.common.db.PostgresSessions;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.boot.r2dbc.autoconfigure.ConnectionFactoryOptionsBuilderCustomizer;
import org.springframework.context.annotation.Bean;

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

    /**
     * Whatever the URL: the session parameters that let PostgreSQL end this service's sessions when it dies, and
     * sockets that give up a server gone silent (a failover) within about a minute.
     */
    @Bean
    ConnectionFactoryOptionsBuilderCustomizer postgresSessions() {
        return PostgresSessions::applyTo;
    }
}
