package dev.dialer.dispatcher;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import reactor.test.scheduler.VirtualTimeScheduler;

/** A UTC clock a test moves by hand, or one that follows a virtual scheduler's time. */
public final class TestClock extends Clock {

    private final Supplier<Instant> source;
    private volatile Instant now;

    private TestClock(Instant now, Supplier<Instant> source) {
        this.now = now;
        this.source = source;
    }

    /** Shows {@code now} until it is moved ({@link #advance}, {@link #set}). */
    public static TestClock at(Instant now) {
        return new TestClock(now, null);
    }

    /** Shows the virtual scheduler's time (from the epoch), so ages and staleness follow it. */
    public static TestClock following(VirtualTimeScheduler time) {
        return new TestClock(null, () -> Instant.EPOCH.plusMillis(time.now(TimeUnit.MILLISECONDS)));
    }

    /** Moves {@code step} on at each reading, starting from {@code start}: time that runs while the code reads it. */
    public static TestClock stepping(Instant start, Duration step) {
        java.util.concurrent.atomic.AtomicReference<Instant> last = new java.util.concurrent.atomic.AtomicReference<>(
                start);
        return new TestClock(null, () -> last.updateAndGet(instant -> instant.plus(step)));
    }

    public void advance(Duration by) {
        now = now.plus(by);
    }

    public void set(Instant instant) {
        now = instant;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        return source != null ? source.get() : now;
    }
}
