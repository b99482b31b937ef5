package dev.dialer.common.db;

import io.r2dbc.spi.R2dbcException;
import java.time.Duration;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Whether PostgreSQL refused a statement for what it says or holds (a constraint, a value, a limit), not for being
 * away or busy: sent again, it is refused again, so a consumer that retries it for ever stops its partition for good.
 * Told by the SQLSTATE the server answered with, from the error or what it wraps.
 */
public final class RefusedStatements {

    /**
     * SQLSTATE classes of a statement refused for itself: feature not supported (0A), cardinality (21), data (22),
     * integrity (23), syntax or access rule (42, but for 42501, a missing grant, which every statement waits on
     * alike), with check option (44), program limit exceeded (54). Every other class (a connection, resources, an
     * operator's shutdown, a rollback, a read-only standby...) is about the server, and is waited for.
     */
    private static final Set<String> REFUSED_CLASSES = Set.of("0A", "21", "22", "23", "42", "44", "54");
    private static final String MISSING_GRANT = "42501";

    private RefusedStatements() {
    }

    /** Whether {@code error}, or the first error it wraps that carries a SQLSTATE, is such a refusal. */
    public static boolean isRefused(Throwable error) {
        String state = sqlState(error);
        return state != null && state.length() == 5 && !state.equals(MISSING_GRANT)
                && REFUSED_CLASSES.contains(state.substring(0, 2));
    }

    /**
     * {@code work} tried again until the database takes it, for a consumer that must not stop its partition for good:
     * a statement refused for what it holds ({@link #isRefused}) is tried {@code tries} times in all, then handed to
     * {@code refused} (which skips it, counted and logged); any other failure (the database away or busy) is tried
     * again for ever, backing off from {@code first} to {@code max}, each failure told to {@code retrying} first. A
     * try that has no answer within {@code limit} fails as an outage does: a connection that hangs without failing (the
     * server gone in a failover, no reset sent) would otherwise hold the work, and its partition, for good.
     */
    public static <T> Mono<T> retried(Mono<T> work, int tries, Duration first, Duration max, Duration limit,
                                      Consumer<Throwable> retrying, Function<Throwable, Mono<T>> refused) {
        return work
                .timeout(limit)
                .retryWhen(Retry.backoff(tries - 1, first).filter(RefusedStatements::isRefused))
                .retryWhen(Retry.backoff(Long.MAX_VALUE, first).maxBackoff(max)
                        .filter(error -> !isRefused(error))
                        .doBeforeRetry(signal -> retrying.accept(signal.failure())))
                .onErrorResume(RefusedStatements::isRefused, refused);
    }

    /** What the server answered, for a log line: the innermost error's own words. */
    public static String answer(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.toString();
    }

    /** The SQLSTATE PostgreSQL answered with, from the error or what it wraps; null when there is none. */
    public static String sqlState(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof R2dbcException r2dbc && r2dbc.getSqlState() != null) {
                return r2dbc.getSqlState();
            }
            if (cause.getCause() == cause) {
                return null;
            }
        }
        return null;
    }
}
