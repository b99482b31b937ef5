package dev.dialer.api.dnc;

import dev.dialer.api.kafka.AcknowledgedPublisher;
import dev.dialer.api.kafka.PublishingTransactions;
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
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.ReactiveTransactionManager;
import reactor.core.publisher.Mono;

/**
 * Each account's do-not-call list in {@code api.dnc}, every change also published on the compacted
 * {@code dialer.dnc} topic that the dispatcher enforces at dial time. A change is stored in a transaction that
 * commits only after Kafka acknowledged its record(s): when Kafka does not, the list's rows stay as they were and the
 * answer is 503, which says the change may still take effect (Kafka may store its records late) and asks for it to be
 * repeated: a repeat is safe, and a number added lands on the dispatchers' list either way (decision 0127).
 */
@Component
public class DncList {

    /** What a 503 says after why Kafka did not have the change's records. */
    private static final String MAY_LAND = "The change may still take effect: Kafka may store it late. Repeat it (a "
            + "repeat is safe) until it is answered.";

    private final DatabaseClient db;
    private final AcknowledgedPublisher publisher;
    private final PublishingTransactions transactions;
    private final MeterRegistry registry;

    DncList(DatabaseClient db, AcknowledgedPublisher publisher, ReactiveTransactionManager tx,
            MeterRegistry registry) {
        this.db = db;
        this.publisher = publisher;
        this.transactions = PublishingTransactions.create(tx);
        this.registry = registry;
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
     * the same order and wait for each other instead of deadlocking.
     */
    Mono<Void> addAll(String accountId, List<DncEntry> given, String source) {
        if (given.isEmpty()) {
            return Mono.empty();
        }
        List<DncEntry> entries = given.stream().sorted(java.util.Comparator.comparing(DncEntry::number)).toList();
        String[] numbers = entries.stream().map(DncEntry::number).toArray(String[]::new);
        String[] reasons = entries.stream().map(DncEntry::reason).toArray(String[]::new);
        Instant addedAt = entries.get(0).addedAt();
        return db.sql("""
                        INSERT INTO api.dnc (account_id, number, reason, added_at)
                        SELECT :account, u.number, u.reason, :added FROM unnest(:numbers::text[], :reasons::text[])
                            AS u(number, reason)
                        ON CONFLICT (account_id, number) DO UPDATE SET reason = EXCLUDED.reason,
                            added_at = EXCLUDED.added_at""")
                .bind("account", accountId)
                .bind("added", OffsetDateTime.ofInstant(addedAt, ZoneOffset.UTC))
                .bind("numbers", numbers)
                .bind("reasons", reasons)
                .then()
                .then(publisher.publishAll(entries.stream().map(DncList::record).toList(), MAY_LAND))
                .as(transactions::transactional)
                .doOnSuccess(done -> changes("added", source).increment(entries.size()));
    }

    /**
     * Removes the number and publishes its tombstone; false when the list did not hold it. The tombstone is published
     * either way: a PUT answered 503 may have left its entry on the topic without a row (Kafka stored it after the
     * time-out, the transaction rolled back), and without it the dispatcher would block the number for good. The key
     * is the account's own, so nothing of another account's list is touched.
     *
     * <p>A row the transaction inserts (and deletes) first holds the number's key until the commit, even when the
     * list has no row: a PUT of the number running meanwhile either committed before, and its row is deleted and
     * its record followed by the tombstone, or waits for the commit and its record follows the tombstone. The last
     * record on the topic always says what the list says.
     */
    Mono<Boolean> remove(String accountId, String e164) {
        return db.sql("""
                        INSERT INTO api.dnc (account_id, number) VALUES (:account, :number)
                        ON CONFLICT (account_id, number) DO NOTHING""")
                .bind("account", accountId)
                .bind("number", e164)
                .fetch().rowsUpdated()
                .flatMap(inserted -> db.sql("DELETE FROM api.dnc WHERE account_id = :account AND number = :number")
                        .bind("account", accountId)
                        .bind("number", e164)
                        .then()
                        .thenReturn(inserted == 0))
                .flatMap(held -> publisher.publishAll(List.of(new OutboundRecord(Topics.DNC,
                        DncEntry.key(accountId, e164), null, null)), MAY_LAND).thenReturn(held))
                .as(transactions::transactional)
                .doOnNext(held -> {
                    if (held) {
                        changes("removed", "single").increment();
                    }
                });
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
