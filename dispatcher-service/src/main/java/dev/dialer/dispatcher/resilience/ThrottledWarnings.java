package dev.dialer.dispatcher.resilience;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * Warnings that can come once a call: a carrier that refuses a whole campaign, or is congested at the full dial rate,
 * would write one a dial. Each kind (a bounded name: a reason, a pair of carriers) is written at WARN at most once an
 * interval, saying how many like it were written at DEBUG since; the metrics count every one.
 */
public final class ThrottledWarnings {

    private final Logger log;
    private final long intervalNanos;
    private final LongSupplier nanoTime;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    public ThrottledWarnings(Logger log, Duration interval) {
        this(log, interval, System::nanoTime);
    }

    ThrottledWarnings(Logger log, Duration interval, LongSupplier nanoTime) {
        this.log = log;
        this.intervalNanos = interval.toNanos();
        this.nanoTime = nanoTime;
    }

    /** Writes the warning at WARN if none of its {@code kind} was this interval, else at DEBUG. */
    public void warn(String kind, String format, Object... arguments) {
        long now = nanoTime.getAsLong();
        long[] heldBack = {-1};
        windows.compute(kind, (name, window) -> {
            if (window == null || now - window.startedAt >= intervalNanos) {
                heldBack[0] = window == null ? 0 : window.heldBack;
                return new Window(now, 0);
            }
            return new Window(window.startedAt, window.heldBack + 1);
        });
        if (heldBack[0] < 0) {
            log.debug(format, arguments);
        } else if (heldBack[0] == 0) {
            log.warn(format, arguments);
        } else {
            log.warn(format + " ({} more like it since the last written, at DEBUG)", append(arguments, heldBack[0]));
        }
    }

    private static Object[] append(Object[] arguments, long value) {
        // A trailing Throwable stays last, where SLF4J looks for it.
        int count = arguments.length;
        Object[] all = new Object[count + 1];
        if (count > 0 && arguments[count - 1] instanceof Throwable error) {
            System.arraycopy(arguments, 0, all, 0, count - 1);
            all[count - 1] = value;
            all[count] = error;
        } else {
            System.arraycopy(arguments, 0, all, 0, count);
            all[count] = value;
        }
        return all;
    }

    private record Window(long startedAt, long heldBack) {
    }
}
