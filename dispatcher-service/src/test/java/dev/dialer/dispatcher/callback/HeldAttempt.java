package dev.dialer.dispatcher.callback;

import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.CallCommand;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * An attempt's row held locked by a transaction of another connection: statements that lock it wait until the
 * transaction ends, rolled back ({@link #close}, which may be called again) or committed after a change of its own
 * ({@link #commitStatus}).
 */
final class HeldAttempt implements AutoCloseable {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private final Connection connection;
    private final DatabaseClient db;
    private final String requestId;
    private final int pid;
    private boolean ended;
    private boolean closed;

    private HeldAttempt(Connection connection, DatabaseClient db, String requestId, int pid) {
        this.connection = connection;
        this.db = db;
        this.requestId = requestId;
        this.pid = pid;
    }

    static HeldAttempt of(ConnectionFactory connections, DatabaseClient db, CallCommand command) {
        Connection connection = Mono.from(connections.create()).block(WAIT);
        Mono.from(connection.beginTransaction()).block(WAIT);
        Integer pid = Flux.from(connection.createStatement("""
                        SELECT pg_backend_pid() FROM dispatch.attempts WHERE request_id = $1 FOR UPDATE""")
                        .bind("$1", command.requestId())
                        .execute())
                .flatMap(result -> result.map((row, meta) -> row.get(0, Integer.class)))
                .blockLast(WAIT);
        return new HeldAttempt(connection, db, command.requestId(), pid);
    }

    /** Until a statement waits for the lock held here. */
    void awaitBlocking() {
        await().atMost(WAIT).until(() -> db.sql("""
                        SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))""")
                .bind(0, pid)
                .map(row -> row.get(0, Long.class))
                .one().block(WAIT) > 0);
    }

    /** Moves the attempt to {@code status} and commits: what a concurrent writer that got there first does. */
    void commitStatus(String status) {
        Flux.from(connection.createStatement("UPDATE dispatch.attempts SET status = $2 WHERE request_id = $1")
                        .bind("$1", requestId)
                        .bind("$2", status)
                        .execute())
                .flatMap(result -> result.getRowsUpdated())
                .blockLast(WAIT);
        Mono.from(connection.commitTransaction()).block(WAIT);
        ended = true;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!ended) {
            Mono.from(connection.rollbackTransaction()).block(WAIT);
        }
        Mono.from(connection.close()).block(WAIT);
    }
}
