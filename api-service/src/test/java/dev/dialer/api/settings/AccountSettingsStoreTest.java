package dev.dialer.api.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.dialer.api.kafka.Compensations;
import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.Contract;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.RowsFetchSpec;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The send path's cache of an account's settings on the instance that replaces them: a read of the database that
 * began before the replacement committed, and answers after it was cached, must not put back the settings replaced.
 * The database is the accounts' rows in memory, whose reads can be held; Kafka acknowledges at once.
 */
class AccountSettingsStoreTest {

    private static final String ACCOUNT = "acme";
    private static final String KEPT = "+918068281234";
    private static final String ADDED = "+918068285678";
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final SettingsRows rows = new SettingsRows();
    private final AccountSettingsStore store = new AccountSettingsStore(rows.client(), acknowledging(),
            new SettingsProperties(Duration.ofMinutes(1)), new SimpleMeterRegistry());

    @Test
    void aReadBegunBeforeAReplacementDoesNotPutBackTheSettingsItReplaced() {
        rows.holds(allowing(KEPT));
        Sinks.Empty<Void> read = rows.holdNextRead();
        CompletableFuture<AccountSettings> send = store.of(ACCOUNT).toFuture();

        store.replace(allowing(KEPT, ADDED)).block(TIMEOUT);
        read.tryEmitEmpty();

        assertThat(send).as("answered once its read was let go").isDone();
        assertThat(send.join().allowedCallerIds()).as("what the send read, before the replacement")
                .containsExactly(KEPT);
        assertThat(store.of(ACCOUNT).block(TIMEOUT).allowedCallerIds()).as("what a send after the 200 is held to")
                .containsExactly(KEPT, ADDED);
    }

    @Test
    void aReadBegunBeforeAnAccountsFirstSettingsDoesNotPutBackItsDefaults() {
        Sinks.Empty<Void> read = rows.holdNextRead();
        CompletableFuture<AccountSettings> send = store.of(ACCOUNT).toFuture();

        store.replace(allowing(KEPT)).block(TIMEOUT);
        read.tryEmitEmpty();

        assertThat(send).as("answered once its read was let go").isDone();
        assertThat(send.join().allowedCallerIds()).as("the defaults, read before the replacement").isEmpty();
        assertThat(store.of(ACCOUNT).block(TIMEOUT).allowedCallerIds()).as("a caller ID not allowed is refused")
                .containsExactly(KEPT);
    }

    @Test
    void aReadBegunBeforeAReplacementDoesNotPutBackWhatItReplacedThoughThatWasStampedLater() {
        Instant parsed = Instant.parse("2026-12-07T10:00:00Z");
        // Stamped later but committed first: by an instance whose clock is ahead, or parsed after this one's PUT.
        rows.holds(settings(parsed.plusMillis(20), KEPT, ADDED));
        Sinks.Empty<Void> read = rows.holdNextRead();
        CompletableFuture<AccountSettings> send = store.of(ACCOUNT).toFuture();

        store.replace(settings(parsed, KEPT)).block(TIMEOUT);
        read.tryEmitEmpty();

        assertThat(send).as("answered once its read was let go").isDone();
        assertThat(store.of(ACCOUNT).block(TIMEOUT).allowedCallerIds()).as("the settings committed last")
                .containsExactly(KEPT);
    }

    @Test
    void cachesAReadBegunAfterAReplacement() {
        rows.holds(allowing(KEPT));
        store.replace(new AccountSettings(AccountSettings.VERSION, "other", null, null, List.of(), null, List.of(),
                null, Instant.now())).block(TIMEOUT);

        assertThat(store.of(ACCOUNT).block(TIMEOUT).allowedCallerIds()).containsExactly(KEPT);
        assertThat(store.of(ACCOUNT).block(TIMEOUT).allowedCallerIds()).containsExactly(KEPT);

        assertThat(rows.reads()).as("the second answered from the cache").isEqualTo(1);
    }

    private static AccountSettings allowing(String... callerIds) {
        return settings(Instant.now(), callerIds);
    }

    private static AccountSettings settings(Instant updatedAt, String... allowedCallerIds) {
        return new AccountSettings(AccountSettings.VERSION, ACCOUNT, null, null, List.of(), null,
                List.of(allowedCallerIds), null, updatedAt);
    }

    /** Publishing transactions whose records Kafka acknowledges at once, and which then commit. */
    private static Compensations acknowledging() {
        Compensations compensations = mock(Compensations.class);
        when(compensations.transactional(anyString(), any(), any(), any())).thenAnswer(call -> {
            Function<Compensations.Publication, Mono<?>> work = call.getArgument(3);
            return work.apply(records -> Mono.empty());
        });
        return compensations;
    }

    /**
     * {@code api.account_settings} as the store uses it: a write replaces the account's row at once; a read takes the
     * row as it is when the read begins (as PostgreSQL's snapshot of a statement does) and answers it at once, or,
     * held, when the test lets it.
     */
    private static final class SettingsRows {

        private final Map<String, String> json = new ConcurrentHashMap<>();
        private final Queue<Sinks.Empty<Void>> held = new ConcurrentLinkedQueue<>();
        private final AtomicInteger reads = new AtomicInteger();

        void holds(AccountSettings settings) {
            json.put(settings.accountId(), Contract.toJson(settings));
        }

        /** The next read answers only once the sink returned completes. */
        Sinks.Empty<Void> holdNextRead() {
            Sinks.Empty<Void> release = Sinks.empty();
            held.add(release);
            return release;
        }

        int reads() {
            return reads.get();
        }

        DatabaseClient client() {
            return proxy(DatabaseClient.class, (client, method, args) -> {
                if (method.getName().equals("sql") && args[0] instanceof String sql) {
                    return statement(sql, new HashMap<>());
                }
                throw new UnsupportedOperationException(method.getName());
            });
        }

        private DatabaseClient.GenericExecuteSpec statement(String sql, Map<String, Object> bound) {
            return proxy(DatabaseClient.GenericExecuteSpec.class, (statement, method, args) ->
                    switch (method.getName()) {
                        case "bind" -> {
                            bound.put((String) args[0], args[1]);
                            yield statement;
                        }
                        case "then" -> Mono.fromRunnable(() -> {
                            if (sql.contains("INSERT INTO api.account_settings")) {
                                json.put((String) bound.get("account"), (String) bound.get("json"));
                            }
                        });
                        case "map" -> fetched((String) bound.get("account"), args[0]);
                        default -> throw new UnsupportedOperationException(method.getName() + " of " + sql);
                    });
        }

        @SuppressWarnings("unchecked")
        private RowsFetchSpec<Object> fetched(String accountId, Object mapping) {
            BiFunction<Row, RowMetadata, Object> map = (BiFunction<Row, RowMetadata, Object>) mapping;
            return proxy(RowsFetchSpec.class, (spec, method, args) -> {
                if (method.getName().equals("one")) {
                    return read(accountId, map);
                }
                throw new UnsupportedOperationException(method.getName());
            });
        }

        private Mono<Object> read(String accountId, BiFunction<Row, RowMetadata, Object> map) {
            return Mono.defer(() -> {
                reads.incrementAndGet();
                String stored = json.get(accountId);
                Sinks.Empty<Void> release = held.poll();
                Mono<Object> answer = stored == null ? Mono.empty()
                        : Mono.fromCallable(() -> map.apply(settingsColumn(stored), null));
                return release == null ? answer : release.asMono().then(answer);
            });
        }

        private static Row settingsColumn(String json) {
            return proxy(Row.class, (row, method, args) -> {
                if (method.getName().equals("get") && args.length == 2 && "settings".equals(args[0])) {
                    return json;
                }
                throw new UnsupportedOperationException(method.getName());
            });
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, InvocationHandler handler) {
        return (T) Proxy.newProxyInstance(AccountSettingsStoreTest.class.getClassLoader(), new Class<?>[] {type},
                handler);
    }
}
