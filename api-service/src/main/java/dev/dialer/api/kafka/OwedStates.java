package dev.dialer.api.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The states api-service owes to Kafka, one row per change in {@code api.owed_states} (decision 0129). A change
 * writes its row and commits it before it hands its records to the producer, and deletes it in its own transaction
 * once Kafka acknowledged them: a row that outlives its change names an object whose topic may hold a record the
 * database does not (the change failed after the hand-off, or its process stopped), until its committed state is
 * published again. Times are the database's clock, the one every instance shares.
 */
@Component
public class OwedStates {

    /** A row a sweeper took: its object, and how many restatements of it were begun, this one included. */
    record Claimed(long id, String kind, String accountId, String objectId, List<String> numbers, int attempts) {

        Optional<OwedState> state() {
            return OwedState.Kind.of(kind).map(known -> new OwedState(known, accountId, objectId, numbers));
        }
    }

    /** How many rows are owed, and how long the oldest has been. */
    record Backlog(long rows, Duration oldest) {
    }

    private final DatabaseClient db;
    private final Duration grace;

    OwedStates(DatabaseClient db, OwedStateProperties properties) {
        this.db = db;
        this.grace = properties.grace();
    }

    /**
     * Writes the row of a change about to publish {@code state}'s object and answers its id. Run before the change's
     * transaction, so it commits on its own: a process that stops at any point after leaves it behind. Sweepers leave
     * it alone for the grace given to the change.
     */
    public Mono<Long> owe(OwedState state) {
        return owe(state, grace);
    }

    /**
     * Writes a row owing {@code state}'s object again, due {@code after} from now: the row of a change rolled back
     * after it handed records to the producer, due once those may no longer land. Answers its id.
     */
    Mono<Long> oweAgain(OwedState state, Duration after) {
        return owe(state, after);
    }

    private Mono<Long> owe(OwedState state, Duration after) {
        DatabaseClient.GenericExecuteSpec insert = db.sql("""
                        INSERT INTO api.owed_states (kind, account_id, object_id, numbers, due_at)
                        VALUES (:kind, :account, :object, :numbers, now() + make_interval(secs => :after))
                        RETURNING id""")
                .bind("kind", state.kind().wire())
                .bind("account", state.accountId())
                .bind("object", state.objectId())
                .bind("after", seconds(after));
        insert = state.numbers().isEmpty() ? insert.bindNull("numbers", String[].class)
                : insert.bind("numbers", state.numbers().toArray(String[]::new));
        return insert.map(row -> row.get("id", Long.class)).one();
    }

    /**
     * Deletes the row: in the change's transaction once Kafka acknowledged its records, or once the object's committed
     * state was stored after them. A row already gone is no error.
     */
    public Mono<Void> settle(long id) {
        return db.sql("DELETE FROM api.owed_states WHERE id = :id").bind("id", id).then();
    }

    /**
     * Takes at most {@code batch} due rows, oldest due first, for {@code lease}: each is due again only once the lease
     * ran out, so no other sweeper takes it meanwhile. Rows another sweeper is taking at that moment are skipped, not
     * waited for. The claim commits on its own, before any restatement begins.
     */
    Flux<Claimed> claim(int batch, Duration lease) {
        return db.sql("""
                        UPDATE api.owed_states owed
                        SET due_at = now() + make_interval(secs => :lease), attempts = owed.attempts + 1
                        FROM (SELECT id FROM api.owed_states WHERE due_at <= now()
                              ORDER BY due_at LIMIT :batch FOR UPDATE SKIP LOCKED) due
                        WHERE owed.id = due.id
                        RETURNING owed.id, owed.kind, owed.account_id, owed.object_id, owed.numbers, owed.attempts""")
                .bind("lease", seconds(lease))
                .bind("batch", batch)
                .map(row -> new Claimed(row.get("id", Long.class), row.get("kind", String.class),
                        row.get("account_id", String.class), row.get("object_id", String.class),
                        numbers(row.get("numbers", String[].class)), row.get("attempts", Integer.class)))
                .all()
                // Handed on once the claim committed (PostgreSQL may send a large result's first rows before its
                // implicit transaction commits): a restatement then never works on a row still being claimed.
                .collectList()
                .flatMapIterable(rows -> rows);
    }

    /** Leaves a row whose restatement failed for {@code after}, noting why. */
    Mono<Void> retryLater(long id, Duration after, String error) {
        return db.sql("""
                        UPDATE api.owed_states SET due_at = now() + make_interval(secs => :after), last_error = :error
                        WHERE id = :id""")
                .bind("id", id)
                .bind("after", seconds(after))
                .bind("error", error)
                .then();
    }

    /** The rows owed now, and the age of the oldest (zero for none). */
    Mono<Backlog> backlog() {
        return db.sql("""
                        SELECT count(*) AS rows,
                            coalesce(extract(epoch FROM now() - min(owed_since)), 0)::float8 AS oldest
                        FROM api.owed_states""")
                .map(row -> new Backlog(row.get("rows", Long.class),
                        Duration.ofMillis(Math.round(row.get("oldest", Double.class) * 1000))))
                .one();
    }

    private static List<String> numbers(String[] numbers) {
        return numbers == null ? List.of() : List.of(numbers);
    }

    private static double seconds(Duration duration) {
        return duration.toMillis() / 1000.0;
    }
}
