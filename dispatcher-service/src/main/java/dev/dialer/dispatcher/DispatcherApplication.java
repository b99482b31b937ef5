package dev.dialer.dispatcher;

import dev.dialer.common.db.PostgresSessions;
import io.r2dbc.postgresql.PostgresqlConnectionFactoryProvider;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.boot.r2dbc.autoconfigure.ConnectionFactoryOptionsBuilderCustomizer;
import org.springframework.context.annotation.Bean;

/**
 * dispatcher-service: consumes call commands, records each attempt before dialling, places calls through the
 * carrier, ingests the carrier's status callbacks and is the only writer of call events.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class DispatcherApplication {

    public static void main(String[] args) {
        // Its own configuration file, so the three services can share one classpath (the standalone launcher).
        new SpringApplicationBuilder(DispatcherApplication.class)
                .properties("spring.config.name=dispatcher-service")
                .run(args);
    }

    /** Whatever the URL: the session parameters that let PostgreSQL end this service's sessions when it dies. */
    @Bean
    ConnectionFactoryOptionsBuilderCustomizer postgresSessions() {
        return options -> options.option(PostgresqlConnectionFactoryProvider.OPTIONS, PostgresSessions.PARAMETERS);
    }
}
