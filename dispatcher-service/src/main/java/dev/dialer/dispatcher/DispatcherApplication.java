package dev.dialer.dispatcher;

import dev.dialer.common.db.PostgresSessions;
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

    static final String IO_WORKER_COUNT = "reactor.netty.ioWorkerCount";

    public static void main(String[] args) {
        fitIoWorkersToProcessors();
        // Its own configuration file, so the three services can share one classpath (the standalone launcher).
        new SpringApplicationBuilder(DispatcherApplication.class)
                .properties("spring.config.name=dispatcher-service")
                .run(args);
    }

    /**
     * Reactor Netty's event loops, which serve the HTTP server, the carrier's client and the PostgreSQL driver: one per
     * processor (at least two) unless {@code -Dreactor.netty.ioWorkerCount} says otherwise, where Reactor Netty's own
     * default is at least four. On two processors four loops of each kind cost the dispatcher some 12 % more CPU a dial
     * (decision 0104). Must run before Reactor Netty's classes load: they read the property once.
     */
    static void fitIoWorkersToProcessors() {
        if (System.getProperty(IO_WORKER_COUNT) == null) {
            int processors = Runtime.getRuntime().availableProcessors();
            System.setProperty(IO_WORKER_COUNT, Integer.toString(Math.max(2, processors)));
        }
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
