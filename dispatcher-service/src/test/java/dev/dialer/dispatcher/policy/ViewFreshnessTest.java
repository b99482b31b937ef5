package dev.dialer.dispatcher.policy;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.dialer.dispatcher.TestClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

class ViewFreshnessTest {

    private static final Duration EVERY = Duration.ofSeconds(10);
    private static final Duration PATIENCE = Duration.ofMinutes(5);

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    /** What the next look at the topic's end does; each look asks anew. */
    private final AtomicReference<Mono<Void>> look = new AtomicReference<>(Mono.empty());
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(ViewFreshness.class);
    private ViewFreshness freshness;
    private Disposable running;

    @BeforeEach
    void start() {
        logged.start();
        logger.addAppender(logged);
        freshness = new ViewFreshness("dnc", () -> look.get(), TestClock.following(time), EVERY, PATIENCE, time,
                registry);
    }

    @AfterEach
    void stop() {
        logger.detachAppender(logged);
        if (running != null) {
            running.dispose();
        }
    }

    @Test
    void aViewReadToItsEndAtEachLookIsNoOlderThanTheTimeBetweenLooks() {
        running = freshness.run().subscribe();
        time.advanceTimeBy(Duration.ofSeconds(95));

        assertThat(gauge()).isEqualTo(5.0);
        assertThat(freshness.stalenessSeconds()).isEqualTo(5);
    }

    @Test
    void aViewThatStopsReceivingGrowsOlderAndSaysSoOnceThenRecovers() {
        running = freshness.run().subscribe();
        time.advanceTimeBy(Duration.ofSeconds(20));
        assertThat(gauge()).isZero();

        // A broker that cannot be reached: each look fails outright.
        look.set(Mono.error(new IllegalStateException("no broker")));
        time.advanceTimeBy(Duration.ofMinutes(1));
        assertThat(gauge()).as("current as of the look at 20 s").isEqualTo(60.0);
        assertThat(warnings()).hasSize(1);
        assertThat(warnings().get(0)).contains("dnc view could not be found current");

        // The reader stops receiving: a look never finds the view at the topic's end, and gives up after its patience.
        look.set(Mono.never());
        time.advanceTimeBy(Duration.ofMinutes(11));
        assertThat(gauge()).isEqualTo(720.0);
        assertThat(warnings()).as("said once while it lasts").hasSize(1);

        // Receiving again: the look under way gives up, the next one finds the view current.
        look.set(Mono.empty());
        time.advanceTimeBy(PATIENCE.plus(EVERY));
        assertThat(gauge()).isLessThanOrEqualTo(EVERY.toSeconds());
        assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage).contains("dnc view current again");
    }

    @Test
    void aViewStillReadingItsTopicInFullIsAsOldAsTheReading() {
        // The first look waits for the first read in full, which takes 3 minutes.
        look.set(Mono.delay(Duration.ofMinutes(3), time).then());
        running = freshness.run().subscribe();
        time.advanceTimeBy(Duration.ofMinutes(2));
        assertThat(gauge()).isEqualTo(120.0);

        look.set(Mono.empty());
        time.advanceTimeBy(Duration.ofMinutes(1));
        assertThat(gauge()).as("current as of the moment the first look began").isEqualTo(180.0);
        time.advanceTimeBy(EVERY);
        assertThat(gauge()).isZero();
    }

    private double gauge() {
        return registry.get("dialer.dispatcher.policy.view.staleness").tag("view", "dnc").gauge().value();
    }

    private List<String> warnings() {
        return logged.list.stream().filter(event -> event.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).toList();
    }
}
