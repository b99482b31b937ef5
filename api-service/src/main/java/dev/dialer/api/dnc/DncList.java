package dev.dialer.api.dnc;

import dev.dialer.api.account.AccountLimits;
import dev.dialer.api.kafka.CommittedStates;
import dev.dialer.api.kafka.Compensations;
import dev.dialer.api.kafka.OwedState;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DncEntry;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Each account's do-not-call list in {@code api.dnc}, every change also published on the compacted
 * {@code dialer.dnc} topic that the dispatcher enforces at dial time. A change is stored in a transaction that
 * commits only after Kafka acknowledged its record(s): when Kafka does not, the list's rows stay as they were and the
 * answer is 503, which says the change did not take effect. Kafka may still store its records late (or the commit
 * failed after it had them), so each number the change touched then has its committed state published after them, an
 * entry or a tombstone ({@link Compensations}, decisions 0127 and 0129): the dispatchers end with the list the API
 * shows, whether this process does it at once or a sweeper from the row the change left.
 *
 * <p>How many entries each account's list holds is kept in {@code api.dnc_counts} (decision 0155), which the limit
 * check reads rather than counting the list: every change moves it by the rows its statements inserted less those
 * they deleted, as the last statement of its transaction, after Kafka acknowledged ({@link #counted}).
 */
@Component
public class DncList implements CommittedStates {

    private final DatabaseClient db;
    private final Compensations compensations;
    private final MeterRegistry registry;
    private final AccountLimits limits;

    DncList(DatabaseClient db, Compensations compensations, MeterRegistry registry, AccountLimits limits) {
        this.db = db;
        this.compensations = compensations;
        this.registry = registry;
        this.limits = limits;
    }

    /** Which of the numbers (E.164) the account's list holds, in one query. */
    public Mono<Set<String>> containing(String accountId, Collection<String> e164s) {
        return db.sql("SELECT number FROM api.dnc WHERE account_id = :account AND number = ANY(:numbers)")
                .bind("account", accountId)
                .bind("numbers", e164s.toArray(String[]::new))
                .map((row, meta) -> row.get("number", String.class))
                .all()
                .collect(Collectors.toSet());
    }

    Mono<DncEntry> find(String accountId, String e164) {
        return db.sql("SELECT reason, added_at FROM api.dnc WHERE account_id = :account AND number = :number")
                .bind("account", accountId)
                .bind("number", e164)
                .map((row, meta) -> new DncEntry(DncEntry.VERSION, accountId, e164, row.get("reason", String.class),
                        row.get("added_at", OffsetDateTime.class).toInstant()))
                .one();
    }

    /**
     * Adds the entries (an existing entry takes the new reason and time, as its record on the topic does), then
     * publishes them all. The rows are written in the numbers' order: two imports sharing numbers then lock them in
     * the same order and wait for each other instead of deadlocking. One row owes the committed state of all the
     * numbers while the change runs, however many they are (up to an import's 10,000). The numbers the list does not
     * hold yet must fit under the account's limit ({@code dialer.api.limits.dnc-per-account}), else nothing is added
     * and the answer is a {@code 409 limit-reached}. The account's count then grows by the rows the statement did
     * insert, which a change of the same numbers committed meanwhile may make fewer than the check expected.
     *
     * @param source {@code single} (a PUT) or {@code bulk} (an import)
     */
    Mono<Void> addAll(String accountId, List<DncEntry> given, String source) {
        if (given.isEmpty()) {
            return Mono.empty();
        }
        List<DncEntry> entries = given.stream().sorted(Comparator.comparing(DncEntry::number)).toList();
        OwedState touched = OwedState.dnc(accountId, entries.stream().map(DncEntry::number).toList());
        return compensations.transactional("single".equals(source) ? "dnc_put" : "dnc_import", touched,
                        committed(touched), publication -> containing(accountId, touched.numbers())
                                .flatMap(held -> limits.requireRoomFor(accountId, AccountLimits.Kept.DNC_ENTRIES,
                                        touched.numbers().size() - held.size()))
                                .then(upsert(accountId, entries))
                                .flatMap(inserted -> publication.publish(entries.stream().map(DncList::record)
                                        .toList()).then(counted(accountId, inserted))))
                .doOnSuccess(done -> changes("added", source).increment(entries.size()));
    }

    /**
     * Writes the entries, sorted by number, as one statement; answers how many of them it inserted rather than
     * updated (a row's {@code xmax} is 0 in the version this statement inserted, the transaction's id in one it
     * updated, as in {@link #committed}).
     */
    private Mono<Long> upsert(String accountId, List<DncEntry> entries) {
        String[] numbers = entries.stream().map(DncEntry::number).toArray(String[]::new);
        String[] reasons = entries.stream().map(DncEntry::reason).toArray(String[]::new);
        Instant addedAt = entries.get(0).addedAt();
        return db.sql("""
                        WITH written AS (
                            INSERT INTO api.dnc (account_id, number, reason, added_at)
                            SELECT :account, u.number, u.reason, :added
                            FROM unnest(:numbers::text[], :reasons::text[]) AS u(number, reason)
                            ON CONFLICT (account_id, number) DO UPDATE SET reason = EXCLUDED.reason,
                                added_at = EXCLUDED.added_at
                            RETURNING xmax = 0 AS inserted)
                        SELECT count(*) FILTER (WHERE inserted) AS inserted FROM written""")
                .bind("account", accountId)
                .bind("added", OffsetDateTime.ofInstant(addedAt, ZoneOffset.UTC))
                .bind("numbers", numbers)
                .bind("reasons", reasons)
                .map((row, meta) -> row.get("inserted", Long.class))
                .one();
    }

    /**
     * Moves the account's count of entries ({@code api.dnc_counts}) by {@code delta}, the rows the change's statements
     * inserted less those they deleted; nothing for none. The last statement of the change's transaction, after Kafka
     * acknowledged: the row's lock, which a concurrent change of the account waits for (the increment itself is
     * atomic, so none is lost), is held only until the commit that follows, never across a change's wait for Kafka,
     * and its holder takes no lock after it, so the numbers' locks, always taken before, cannot close a deadlock
     * with it (all that follows is the deletion of the change's own {@code api.owed_states} row, and the commit). A
     * first count of the account is inserted; two racing to insert it add up, the unique key making the second one
     * update.
     */
    private Mono<Void> counted(String accountId, long delta) {
        if (delta == 0) {
            return Mono.empty();
        }
        return db.sql("""
                        INSERT INTO api.dnc_counts (account_id, entries) VALUES (:account, :delta)
                        ON CONFLICT (account_id) DO UPDATE SET entries = api.dnc_counts.entries + EXCLUDED.entries""")
                .bind("account", accountId)
                .bind("delta", delta)
                .then();
    }

    /**
     * Removes the number and publishes its tombstone; false when the list did not hold it. The tombstone is published
     * either way: an entry may be on the topic without a row (a PUT answered 503 by an earlier version, whose entry
     * Kafka stored after the time-out with nothing published after it), and without it the dispatcher would block the
     * number for good. The key is the account's own, so nothing of another account's list is touched.
     *
     * <p>A row the transaction inserts (and deletes) first holds the number's key until the commit, even when the
     * list has no row: a PUT of the number running meanwhile either committed before, and its row is deleted and
     * its record followed by the tombstone, or waits for the commit and its record follows the tombstone. The last
     * record on the topic always says what the list says. That row is inserted and deleted by the same change, so the
     * account's count moves by what the two statements did together: down by one for a row held before, not at all
     * for the change's own.
     */
    Mono<Boolean> remove(String accountId, String e164) {
        OwedState touched = OwedState.dnc(accountId, List.of(e164));
        return compensations.transactional("dnc_delete", touched, committed(touched),
                        publication -> removed(accountId, e164, publication))
                .doOnNext(held -> {
                    if (held) {
                        changes("removed", "single").increment();
                    }
                });
    }

    private Mono<Boolean> removed(String accountId, String e164, Compensations.Publication publication) {
        return db.sql("""
                        INSERT INTO api.dnc (account_id, number) VALUES (:account, :number)
                        ON CONFLICT (account_id, number) DO NOTHING""")
                .bind("account", accountId)
                .bind("number", e164)
                .fetch().rowsUpdated()
                .flatMap(inserted -> db.sql("DELETE FROM api.dnc WHERE account_id = :account AND number = :number")
                        .bind("account", accountId)
                        .bind("number", e164)
                        .fetch().rowsUpdated()
                        .flatMap(deleted -> publication.publish(List.of(tombstone(accountId, e164)))
                                .then(counted(accountId, inserted - deleted))
                                .thenReturn(inserted == 0)));
    }

    @Override
    public OwedState.Kind kind() {
        return OwedState.Kind.DNC;
    }

    /**
     * The committed state of each of the account's numbers the change touched: its entry while the list holds it, its
     * tombstone when not, as a PUT and a DELETE publish them. Every number is locked as a change locks it, in one
     * statement and in the numbers' order (an import's): a held row by its row lock, an absent number by a row
     * inserted and deleted again in this transaction, as {@link #remove} holds it, which no other transaction ever
     * sees. A change of one of the numbers meanwhile either committed before, and is what is read, or waits for the
     * lock and is published after. The account's count ({@code api.dnc_counts}) is not touched: every row inserted
     * here is deleted again by the same transaction, and a transaction that holds its numbers until Kafka stored their
     * records must not hold the count too, which every change of the account that adds or removes an entry takes.
     */
    @Override
    public Mono<List<OutboundRecord>> committed(OwedState touched) {
        String[] numbers = touched.numbers().stream().sorted().toArray(String[]::new);
        String accountId = touched.accountId();
        // xmax is 0 in the version this statement inserted, the transaction's id in one it updated (locked).
        return db.sql("""
                        INSERT INTO api.dnc (account_id, number)
                        SELECT :account, u.number FROM unnest(:numbers::text[]) AS u(number) ORDER BY u.number
                        ON CONFLICT (account_id, number) DO UPDATE SET reason = api.dnc.reason
                        RETURNING number, reason, added_at, xmax = 0 AS absent""")
                .bind("account", accountId)
                .bind("numbers", numbers)
                .map((row, meta) -> {
                    String number = row.get("number", String.class);
                    return Boolean.TRUE.equals(row.get("absent", Boolean.class)) ? new Locked(number, null)
                            : new Locked(number, new DncEntry(DncEntry.VERSION, accountId, number,
                                    row.get("reason", String.class),
                                    row.get("added_at", OffsetDateTime.class).toInstant()));
                })
                .all()
                .collectList()
                .flatMap(locked -> unheld(accountId, locked).thenReturn(locked.stream()
                        .map(one -> one.entry() == null ? tombstone(accountId, one.number()) : record(one.entry()))
                        .toList()));
    }

    /** A number {@link #committed} locked, and its entry ({@code null} when the list does not hold it). */
    private record Locked(String number, DncEntry entry) {
    }

    /** Deletes the rows {@link #committed} inserted to hold the numbers the list does not have. */
    private Mono<Void> unheld(String accountId, List<Locked> locked) {
        String[] absent = locked.stream().filter(one -> one.entry() == null).map(Locked::number)
                .toArray(String[]::new);
        if (absent.length == 0) {
            return Mono.empty();
        }
        return db.sql("DELETE FROM api.dnc WHERE account_id = :account AND number = ANY(:numbers)")
                .bind("account", accountId)
                .bind("numbers", absent)
                .then();
    }

    private static OutboundRecord tombstone(String accountId, String e164) {
        return new OutboundRecord(Topics.DNC, DncEntry.key(accountId, e164), null, null);
    }

    private static OutboundRecord record(DncEntry entry) {
        return OutboundRecord.of(Topics.DNC, entry.key(), Contract.toBytes(entry));
    }

    private Counter changes(String change, String source) {
        return Counter.builder("dialer.api.dnc.changes")
                .description("DNC entries added or removed, by change and by endpoint (single or bulk)")
                .tag("change", change)
                .tag("source", source)
                .register(registry);
    }
}
