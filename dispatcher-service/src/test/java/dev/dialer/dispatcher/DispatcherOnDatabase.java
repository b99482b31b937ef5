package dev.dialer.dispatcher;

import java.time.Duration;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A dispatcher without its web server and its watchdog, on the shared Kafka and PostgreSQL: the base of integration
 * tests of what the dispatcher writes to and claims from its database. Each test class gets a context of its own.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.NONE, properties = {
        "spring.config.name=dispatcher-service", "dialer.dispatcher.watchdog.enabled=false",
        // Published events are kept: the tests read what was stored.
        "dialer.dispatcher.outbox.retention=PT1H"})
@DirtiesContext
public abstract class DispatcherOnDatabase {

    protected static final Duration WAIT = Duration.ofSeconds(30);

    @Autowired
    protected DatabaseClient db;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        DispatcherFixture.infrastructure(registry);
    }
}
