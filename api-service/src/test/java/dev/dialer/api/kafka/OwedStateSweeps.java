package dev.dialer.api.kafka;

import java.time.Duration;
import org.springframework.context.ApplicationContext;
import reactor.core.publisher.Flux;

/** What a test outside the package needs of the sweeper: its claims, and its own instance stopped meanwhile. */
public final class OwedStateSweeps {

    private OwedStateSweeps() {
    }

    /** The ids of the rows one claim took. */
    public static Flux<Long> claim(ApplicationContext context, int batch, Duration lease) {
        return context.getBean(OwedStates.class).claim(batch, lease).map(OwedStates.Claimed::id);
    }

    public static void stopSweeping(ApplicationContext context) {
        context.getBean(OwedStateSweeper.class).stop();
    }

    public static void startSweeping(ApplicationContext context) {
        context.getBean(OwedStateSweeper.class).start();
    }
}
