package dev.dialer.dispatcher.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.CALLS_REAL_METHODS;
import static org.mockito.Mockito.mock;

import dev.dialer.dispatcher.policy.PolicyViewsLifecycle;
import org.junit.jupiter.api.Test;
import org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle;
import org.springframework.context.SmartLifecycle;

/** The outbox relay stops after everything that writes events, so their last events still leave. */
class OutboxRelayLifecycleTest {

    /** The phase of Spring Boot's reactive {@code WebServerStartStopLifecycle}, which stops the server. */
    private static final int WEB_SERVER_STOP_PHASE = WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE - 1024;

    @Test
    void stopsAfterThePipelinesThePolicyViewsAndTheWebServer() {
        int relay = new OutboxRelayLifecycle(null, null).getPhase();

        assertThat(relay).isLessThan(SmartLifecycle.DEFAULT_PHASE)
                .isLessThan(mock(PolicyViewsLifecycle.class, CALLS_REAL_METHODS).getPhase())
                .isLessThan(WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE)
                .isLessThan(WEB_SERVER_STOP_PHASE);
    }
}
