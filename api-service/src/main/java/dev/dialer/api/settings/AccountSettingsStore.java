package dev.dialer.api.settings;

import dev.dialer.api.account.Account;
import dev.dialer.api.kafka.CommittedStates;
import dev.dialer.api.kafka.Compensations;
import dev.dialer.api.kafka.OwedState;
import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Each account's {@link AccountSettings}: stored in {@code api.account_settings}, published on the compacted
 * {@code dialer.account.config} topic (which the dispatcher enforces), and read on the send path through a short
 * cache ({@link #of}); {@code GET} reads them from the database ({@link #current}). An account that never wrote
 * settings has {@link AccountSettings#defaults} with its own region.
 */
@Component
public class AccountSettingsStore implements AccountSettingsLookup, CommittedStates {

    private static final Logger log = LoggerFactory.getLogger(AccountSettingsStore.class);
    private static final int MAX_CACHED = 10_000;

    private record Cached(AccountSettings settings, Instant expiresAt) {
    }

    private final DatabaseClient db;
    private final Compensations compensations;
    private final Duration cacheTtl;
    private final Clock clock = Clock.systemUTC();
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();
    /**
     * How many replacements this instance cached, of any account: a read that sees it move while it runs may have
     * read the settings one of them replaced, and does not cache what it read ({@link #of}). Not the settings'
     * {@code updatedAt}: that is taken as the {@code PUT} is parsed, before the account's lock orders the
     * replacements, and by each instance's own clock, so the settings committed last may carry the earlier time. One
     * count for all accounts, not one each, which would need a bound of its own: replacements are rare, and a read
     * that overlapped another account's costs one query more on a later send.
     */
    private final AtomicLong replacements = new AtomicLong();
    private final Counter updates;

    AccountSettingsStore(DatabaseClient db, Compensations compensations, SettingsProperties properties,
                         MeterRegistry registry) {
        this.db = db;
        this.compensations = compensations;
        this.cacheTtl = properties.cacheTtl();
        this.updates = Counter.builder("dialer.api.account_settings.updates")
                .description("Account settings stored and published").register(registry);
    }

    /**
     * The account's settings, its defaults when it wrote none. Read from the database when not cached, and cached
     * unless this instance replaced settings while the read ran: the read may have begun before that replacement
     * committed, and what it read would otherwise put back, after the {@code PUT} was answered and for the cache's
     * lifetime, the settings the {@code PUT} replaced (a caller ID it allowed refused with 403, one it removed
     * accepted). Such a read still answers what it read, as a send that began before the {@code PUT} may.
     */
    @Override
    public Mono<AccountSettings> of(String accountId) {
        Cached cached = cache.get(accountId);
        if (cached != null && clock.instant().isBefore(cached.expiresAt())) {
            return Mono.just(cached.settings());
        }
        return Mono.defer(() -> {
            long seen = replacements.get();
            return load(accountId).doOnNext(settings -> rememberRead(accountId, settings, seen));
        });
    }

    /**
     * The account's settings as the database holds them, its defaults when it wrote none: what {@code GET} answers.
     * Not read through the send path's cache, which trusts what this instance read or wrote for a few seconds:
     * right after a {@code PUT} taken by another instance, the cache would answer the settings it replaced. Nor is
     * the cache filled from here: only the send path's reads ({@link #of}) and this instance's replacements fill it.
     */
    Mono<AccountSettings> current(String accountId) {
        return load(accountId);
    }

    /** The region numbers written without a country code are read in: the settings', else the account's. */
    public static String regionOf(Account account, AccountSettings settings) {
        return settings.defaultRegion() != null ? settings.defaultRegion() : account.defaultRegion();
    }

    /**
     * Stores the settings and publishes them, in one transaction that commits only after Kafka acknowledged the
     * record: when Kafka does not, nothing changes and the answer is 503. Should the record land all the same (Kafka
     * acknowledged it too late for the answer, or the commit failed), the account's committed settings are published
     * again after it ({@link Compensations}). The account's lock orders replacements and that republication, also
     * for an account that has no row yet.
     */
    Mono<AccountSettings> replace(AccountSettings settings) {
        String accountId = settings.accountId();
        return compensations.transactional("settings_replace", OwedState.settings(accountId),
                        committed(accountId), publication -> lock(accountId)
                                .then(store(settings))
                                .then(publication.publish(List.of(record(settings)))))
                .doOnSuccess(done -> {
                    rememberReplaced(settings.accountId(), settings);
                    updates.increment();
                    log.info("account {} settings replaced ({} allowed caller IDs, cap {}, region {})",
                            settings.accountId(), settings.allowedCallerIds().size(), settings.perCalleeDailyCap(),
                            settings.defaultRegion());
                })
                .thenReturn(settings);
    }

    private Mono<Void> store(AccountSettings settings) {
        return db.sql("""
                        INSERT INTO api.account_settings (account_id, settings, updated_at)
                        VALUES (:account, :json, :at)
                        ON CONFLICT (account_id) DO UPDATE SET settings = EXCLUDED.settings,
                            updated_at = EXCLUDED.updated_at""")
                .bind("account", settings.accountId())
                .bind("json", Contract.toJson(settings))
                .bind("at", OffsetDateTime.ofInstant(settings.updatedAt(), ZoneOffset.UTC))
                .then();
    }

    /** Serialises the changes of one account's settings until the transaction ends, across api-service instances. */
    private Mono<Void> lock(String accountId) {
        return db.sql("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
                .bind("key", "account-settings:" + accountId)
                .then();
    }

    @Override
    public OwedState.Kind kind() {
        return OwedState.Kind.SETTINGS;
    }

    /**
     * The account's committed settings as their record, under the account's lock; a tombstone when it has none (the
     * dispatcher then applies the defaults, as before any settings were published).
     */
    @Override
    public Mono<List<OutboundRecord>> committed(OwedState settings) {
        return committed(settings.accountId());
    }

    private Mono<List<OutboundRecord>> committed(String accountId) {
        return lock(accountId)
                .then(stored(accountId))
                .map(AccountSettingsStore::record)
                .defaultIfEmpty(new OutboundRecord(Topics.ACCOUNT_CONFIG, accountId, null, null))
                .map(List::of);
    }

    private static OutboundRecord record(AccountSettings settings) {
        return OutboundRecord.of(Topics.ACCOUNT_CONFIG, settings.accountId(), Contract.toBytes(settings));
    }

    private Mono<AccountSettings> load(String accountId) {
        return stored(accountId).defaultIfEmpty(AccountSettings.defaults(accountId));
    }

    /** The settings the account wrote; empty when it wrote none. */
    private Mono<AccountSettings> stored(String accountId) {
        return db.sql("SELECT settings FROM api.account_settings WHERE account_id = :account")
                .bind("account", accountId)
                .map((row, meta) -> Contract.read(row.get("settings", String.class)
                        .getBytes(StandardCharsets.UTF_8), AccountSettings.class))
                .one();
    }

    /**
     * Caches settings this instance committed, and counts the replacement with them: a read that began before and
     * has not cached yet no longer will.
     */
    private void rememberReplaced(String accountId, AccountSettings settings) {
        bound();
        cache.compute(accountId, (key, held) -> {
            replacements.incrementAndGet();
            return fresh(settings);
        });
    }

    /**
     * Caches settings read from the database, unless this instance replaced settings since the read began
     * ({@code seen}). Looked at and cached in one step for the account, which a replacement's caching waits for: a
     * replacement counted after the look caches its settings after these.
     */
    private void rememberRead(String accountId, AccountSettings settings, long seen) {
        bound();
        cache.compute(accountId, (key, held) -> replacements.get() == seen ? fresh(settings) : held);
    }

    private Cached fresh(AccountSettings settings) {
        return new Cached(settings, clock.instant().plus(cacheTtl));
    }

    private void bound() {
        if (cache.size() >= MAX_CACHED) {
            // Bounded: refilling costs one query per active account.
            cache.clear();
        }
    }
}
