package dev.dialer.dispatcher.retry;

import dev.dialer.dispatcher.lifecycle.BackgroundLoop;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;

/** Measures {@code dispatch.schedule} for its gauges ({@link ScheduleBacklog}) from start-up to shut-down. */
@Component
class ScheduleBacklogLifecycle extends BackgroundLoop {

    private final ScheduleBacklog backlog;
    private final ScheduleProperties properties;

    ScheduleBacklogLifecycle(ScheduleBacklog backlog, ScheduleProperties properties) {
        super("schedule gauges");
        this.backlog = backlog;
        this.properties = properties;
    }

    @Override
    protected boolean enabled() {
        return true;
    }

    @Override
    protected Flux<?> loop() {
        return backlog.run();
    }

    @Override
    protected String started() {
        return "the rows waiting in dispatch.schedule are counted every " + properties.gaugeEvery();
    }
}
