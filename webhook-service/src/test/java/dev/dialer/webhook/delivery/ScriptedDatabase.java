package dev.dialer.webhook.delivery;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A PostgreSQL that answers each statement as the test's {@link Script} says, from its SQL as sent (named parameters
 * turned into {@code $1}, {@code $2}...), and notes every statement executed, in order. No transactions.
 */
final class ScriptedDatabase implements ConnectionFactory {

    /** How the statement with this SQL is answered. */
    interface Script {
        Answer answer(String sql);
    }

    /**
     * A statement's answer: the rows it updated and those it returned, an error, or none ever (a connection that hangs
     * without failing).
     */
    record Answer(long updated, List<Map<String, Object>> rows, Throwable error, boolean hangs) {

        static Answer updated(long rows) {
            return new Answer(rows, List.of(), null, false);
        }

        @SafeVarargs
        static Answer rows(Map<String, Object>... rows) {
            return new Answer(0, List.of(rows), null, false);
        }

        static Answer failing(Throwable error) {
            return new Answer(0, List.of(), error, false);
        }

        static Answer hanging() {
            return new Answer(0, List.of(), null, true);
        }
    }

    private final Script script;
    private final List<String> executed = new CopyOnWriteArrayList<>();

    ScriptedDatabase(Script script) {
        this.script = script;
    }

    /** The statements executed whose SQL matches. */
    long executed(Predicate<String> sql) {
        return executed.stream().filter(sql).count();
    }

    @Override
    public Publisher<? extends Connection> create() {
        return Mono.just(new ScriptedConnection());
    }

    @Override
    public ConnectionFactoryMetadata getMetadata() {
        return () -> "PostgreSQL";
    }

    private final class ScriptedConnection implements Connection {

        @Override
        public Statement createStatement(String sql) {
            return new ScriptedStatement(sql);
        }

        @Override
        public Publisher<Void> close() {
            return Mono.empty();
        }

        @Override
        public boolean isAutoCommit() {
            return true;
        }

        @Override
        public Publisher<Void> beginTransaction() {
            throw unsupported();
        }

        @Override
        public Publisher<Void> beginTransaction(TransactionDefinition definition) {
            throw unsupported();
        }

        @Override
        public Publisher<Void> commitTransaction() {
            throw unsupported();
        }

        @Override
        public Batch createBatch() {
            throw unsupported();
        }

        @Override
        public Publisher<Void> createSavepoint(String name) {
            throw unsupported();
        }

        @Override
        public ConnectionMetadata getMetadata() {
            throw unsupported();
        }

        @Override
        public IsolationLevel getTransactionIsolationLevel() {
            throw unsupported();
        }

        @Override
        public Publisher<Void> releaseSavepoint(String name) {
            throw unsupported();
        }

        @Override
        public Publisher<Void> rollbackTransaction() {
            throw unsupported();
        }

        @Override
        public Publisher<Void> rollbackTransactionToSavepoint(String name) {
            throw unsupported();
        }

        @Override
        public Publisher<Void> setAutoCommit(boolean autoCommit) {
            throw unsupported();
        }

        @Override
        public Publisher<Void> setLockWaitTimeout(Duration timeout) {
            throw unsupported();
        }

        @Override
        public Publisher<Void> setStatementTimeout(Duration timeout) {
            throw unsupported();
        }

        @Override
        public Publisher<Void> setTransactionIsolationLevel(IsolationLevel isolationLevel) {
            throw unsupported();
        }

        @Override
        public Publisher<Boolean> validate(ValidationDepth depth) {
            return Mono.just(true);
        }
    }

    /** Binds nothing: the script answers by the SQL alone. */
    private final class ScriptedStatement implements Statement {

        private final String sql;

        ScriptedStatement(String sql) {
            this.sql = sql;
        }

        @Override
        public Publisher<? extends Result> execute() {
            return Mono.defer(() -> {
                executed.add(sql);
                Answer answer = script.answer(sql);
                if (answer.hangs()) {
                    return Mono.never();
                }
                return answer.error() != null ? Mono.error(answer.error()) : Mono.just(new ScriptedResult(answer));
            });
        }

        @Override
        public Statement add() {
            return this;
        }

        @Override
        public Statement bind(int index, Object value) {
            return this;
        }

        @Override
        public Statement bind(String name, Object value) {
            return this;
        }

        @Override
        public Statement bindNull(int index, Class<?> type) {
            return this;
        }

        @Override
        public Statement bindNull(String name, Class<?> type) {
            return this;
        }
    }

    private record ScriptedResult(Answer answer) implements Result {

        @Override
        public Publisher<Long> getRowsUpdated() {
            return Mono.just(answer.updated());
        }

        @Override
        public <T> Publisher<T> map(BiFunction<Row, RowMetadata, ? extends T> mapping) {
            return Flux.fromIterable(answer.rows()).map(row -> mapping.apply(new ScriptedRow(row), null));
        }

        @Override
        public <T> Publisher<T> map(Function<? super Readable, ? extends T> mapping) {
            return Flux.fromIterable(answer.rows()).map(row -> mapping.apply(new ScriptedRow(row)));
        }

        @Override
        public Result filter(Predicate<Segment> filter) {
            throw unsupported();
        }

        @Override
        public <T> Publisher<T> flatMap(Function<Segment, ? extends Publisher<? extends T>> mapping) {
            throw unsupported();
        }
    }

    /** A row by column name; a column it lacks is null. */
    private record ScriptedRow(Map<String, Object> columns) implements Row {

        @Override
        public <T> T get(String name, Class<T> type) {
            return type.cast(columns.get(name));
        }

        @Override
        public <T> T get(int index, Class<T> type) {
            throw unsupported();
        }

        @Override
        public RowMetadata getMetadata() {
            throw unsupported();
        }
    }

    private static UnsupportedOperationException unsupported() {
        return new UnsupportedOperationException("not scripted");
    }
}
