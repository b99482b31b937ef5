package dev.dialer.api;

import dev.dialer.common.db.PostgresSessions;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.boot.r2dbc.autoconfigure.ConnectionFactoryOptionsBuilderCustomizer;
import org.springframework.context.annotation.Bean;

/** The public HTTP front door: turns send requests into {@code dialer.call.commands} records, manages webhooks. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class ApiApplication {

    public static void main(String[] args) {
        new SpringApplicationBuilder(ApiApplication.class).properties("spring.config.name=api-service").run(args);
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
