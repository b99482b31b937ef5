package dev.dialer.api.account;

import dev.dialer.api.kafka.LockWaits;
import dev.dialer.api.problem.Problems;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Caps on what one account may keep ({@code dialer.api.limits}), checked inside the transaction that adds one. The
 * account's row is locked first ({@code FOR NO KEY UPDATE}, which the foreign-key checks of sends and other writes do
 * not wait for), and the rows are counted by a statement of their own, whose snapshot sees what a request that held
 * the lock before committed: two requests racing for the last place cannot both take it. A creation waits at most
 * {@value LockWaits#WAIT} for the lock ({@link LockWaits}), then fails with {@code 55P03}, which the API answers 503
 * with {@code Retry-After}. The DNC list's limit is counted without the lock: it guards the dispatchers' memory, and
 * changes racing for its last places may pass it by their own size rather than queue, opt-outs among them. Its count
 * is not the list's rows counted, which would read up to the limit's million on every opt-out, but the one row of
 * {@code api.dnc_counts} the changes keep (decision 0155), which shows what they committed as the rows do.
 */
@Component
public class AccountLimits {

    /** What is capped, and the table that holds it. */
    public enum Kept {
        WEBHOOKS("webhooks", "webhooks", "SELECT count(*) FROM api.webhooks WHERE account_id = :account"),
        SUBSCRIPTIONS("subscriptions", "subscriptions",
                "SELECT count(*) FROM api.subscriptions WHERE account_id = :account"),
        DNC_ENTRIES("dnc_entries", "numbers on its DNC list",
                "SELECT coalesce((SELECT entries FROM api.dnc_counts WHERE account_id = :account), 0)");

        private final String tag;
        private final String name;
        private final String count;

        /**
         * @param tag   the {@code kept} tag of {@code dialer.api.limits.refused}
         * @param name  what the problem's detail calls them
         * @param count the statement that answers how many the account keeps
         */
        Kept(String tag, String name, String count) {
            this.tag = tag;
            this.name = name;
            this.count = count;
        }
    }

    /**
     * How long a creation waits for the account's lock (held by another creation until Kafka acknowledged it) before
     * it is answered 503 with {@code Retry-After}, rather than queue holding a database connection.
     */

    private final DatabaseClient db;
    private final LimitsProperties properties;
    private final Map<Kept, Counter> refused = new EnumMap<>(Kept.class);

    AccountLimits(DatabaseClient db, LimitsProperties properties, MeterRegistry registry) {
        this.db = db;
        this.properties = properties;
        for (Kept kept : Kept.values()) {
            refused.put(kept, Counter.builder("dialer.api.limits.refused")
                    .description("Creations refused because the account already kept the most it may")
                    .tag("kept", kept.tag)
                    .register(registry));
        }
    }

    /**
     * Completes when the account may add one more; errors with a {@code 409 limit-reached} problem when it already
     * has the most it may. Run it in the transaction that adds the row: the lock is held until that ends.
     */
    public Mono<Void> requireRoomFor(String accountId, Kept kept) {
        return requireRoomFor(accountId, kept, 1);
    }

    /**
     * As {@link #requireRoomFor(String, Kept)}, for {@code adding} more at once (an import): a {@code 409
     * limit-reached} problem when they would take the account past the most it may keep. Nothing is checked for
     * none.
     */
    public Mono<Void> requireRoomFor(String accountId, Kept kept, long adding) {
        if (adding <= 0) {
            return Mono.empty();
        }
        int most = switch (kept) {
            case WEBHOOKS -> properties.webhooksPerAccount();
            case SUBSCRIPTIONS -> properties.subscriptionsPerAccount();
            case DNC_ENTRIES -> properties.dncPerAccount();
        };
        // The DNC list's limit guards the dispatchers' memory and may be passed by changes racing for its last
        // places: its changes, opt-outs among them, must not queue behind each other on the account's lock.
        Mono<Void> locked = kept == Kept.DNC_ENTRIES ? Mono.empty() : LockWaits.bounded(db)
                .thenMany(db.sql("SELECT id FROM api.accounts WHERE id = :account FOR NO KEY UPDATE")
                        .bind("account", accountId)
                        .fetch().all())
                .then();
        return locked
                .then(db.sql(kept.count).bind("account", accountId)
                        .map((row, meta) -> row.get(0, Long.class))
                        .one())
                .flatMap(count -> {
                    if (count + adding <= most) {
                        return Mono.empty();
                    }
                    refused.get(kept).increment();
                    return Mono.error(adding == 1 ? Problems.limitReached(kept.name, most)
                            : Problems.limitReached(kept.name, most, count, adding));
                });
    }
}
