package dev.dialer.dispatcher.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ThrottledWarningsTest {

    private final Logger logger = (Logger) LoggerFactory.getLogger("throttled-warnings-test");
    private final ListAppender<ILoggingEvent> written = new ListAppender<>();
    private final AtomicLong now = new AtomicLong();
    private final ThrottledWarnings warnings = new ThrottledWarnings(logger, Duration.ofSeconds(10), now::get);

    @BeforeEach
    void listen() {
        logger.setLevel(Level.DEBUG);
        written.start();
        logger.addAppender(written);
    }

    @AfterEach
    void stopListening() {
        logger.detachAppender(written);
    }

    @Test
    void eachKindIsWrittenAtWarnOnceAnIntervalAndSaysHowManyWentToDebug() {
        warnings.warn("failed busy", "request {} failed", "r-1");
        warnings.warn("failed busy", "request {} failed", "r-2");
        warnings.warn("failed busy", "request {} failed", "r-3");
        warnings.warn("failed other", "request {} failed otherwise", "r-4");
        now.addAndGet(Duration.ofSeconds(10).toNanos());
        warnings.warn("failed busy", "request {} failed", "r-5", new IllegalStateException("refused"));

        assertThat(written.list).extracting(ILoggingEvent::getLevel, ILoggingEvent::getFormattedMessage)
                .containsExactly(
                        tuple(Level.WARN, "request r-1 failed"),
                        tuple(Level.DEBUG, "request r-2 failed"),
                        tuple(Level.DEBUG, "request r-3 failed"),
                        tuple(Level.WARN, "request r-4 failed otherwise"),
                        tuple(Level.WARN,
                                "request r-5 failed (2 more like it since the last written, at DEBUG)"));
        assertThat(written.list.get(4).getThrowableProxy().getMessage()).isEqualTo("refused");
    }
}
