package dev.dialer.dispatcher;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

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
}
