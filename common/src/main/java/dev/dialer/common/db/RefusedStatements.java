package dev.dialer.common.db;

import io.r2dbc.spi.R2dbcException;
import java.util.Set;

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
