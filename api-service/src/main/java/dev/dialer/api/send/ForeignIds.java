package dev.dialer.api.send;

import dev.dialer.api.kafka.LockWaits;
import dev.dialer.api.kafka.PublishingTransactions;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import org.springframework.transaction.ReactiveTransactionManager;
import reactor.core.publisher.Mono;

/**
 * {@code foreign_id} de-duplication per account: one request per client reference and callee. Claims are made inside
 * the send's transaction, which commits only after Kafka acknowledged the commands, so a request that failed leaves
 * no claim; a concurrent request with the same reference waits for that commit and then sees the claim. Once begun,
 * the transaction runs to its end even if the client hangs up ({@link PublishingTransactions}): Kafka may have the
 * commands by then, and rolled-back claims would answer a repeat of the reference as a new call.
 */
@Component
class ForeignIds implements ForeignIdClaims {

    private final DatabaseClient db;
    private final PublishingTransactions transactions;

    ForeignIds(DatabaseClient db, ReactiveTransactionManager tx) {
        this.db = db;
        this.transactions = PublishingTransactions.create(tx);
    }

    /**
     * How long a claim waits for a racing request's claim of the same pair, which holds it until Kafka acknowledged
     * that request's calls: then it fails {@code 55P03}, answered 503 with {@code Retry-After} (its retry finds the
     * pair claimed, or free). Unbounded, retries of a send whose acknowledgement is slow would each hold a pooled
     * connection while they wait, until none was left for any request of any account ({@link LockWaits}).
     */
    static final String CLAIM_WAIT = "5s";

    @Override
    public <T> Mono<T> claimThen(String accountId, List<Claim> claims, Function<Map<String, Owner>, Mono<T>> work) {
        return transactions.transactional(claim(accountId, claims).flatMap(work));
    }

    /**
     * Claims every (foreign id, callee) pair not claimed yet and answers, for every pair, the request that owns it and
     * whether this claim made it. The insert says which rows it added; the owners are read by a second statement,
     * whose snapshot sees a racing request's claim once that request committed (the insert waited for it).
     *
     * <p>The rows are inserted in the pairs' order, each pair once (for its first recipient): two requests sharing
     * pairs then wait on them in the same order, one for the other, where in request order each could hold a pair the
     * other waits for, a deadlock PostgreSQL breaks by failing one of them.
     */
    Mono<Map<String, Owner>> claim(String accountId, List<Claim> given) {
        List<Claim> claims = inLockOrder(given);
        String[] foreignIds = claims.stream().map(Claim::foreignId).toArray(String[]::new);
        String[] callees = claims.stream().map(Claim::callee).toArray(String[]::new);
        String[] requestIds = claims.stream().map(Claim::requestId).toArray(String[]::new);
        String[] keyCallIds = claims.stream().map(Claim::keyCallId).toArray(String[]::new);
        return LockWaits.bounded(db, CLAIM_WAIT).then(db.sql("""
                        INSERT INTO api.foreign_ids (account_id, foreign_id, callee, request_id, key_call_id)
                        SELECT :account, u.foreign_id, u.callee, u.request_id, u.key_call_id
                        FROM unnest(:foreignIds::text[], :callees::text[], :requestIds::text[], :keyCallIds::text[])
                            WITH ORDINALITY AS u(foreign_id, callee, request_id, key_call_id, n)
                        ORDER BY u.n
                        ON CONFLICT (account_id, foreign_id, callee) DO NOTHING
                        RETURNING foreign_id, callee""")
                .bind("account", accountId)
                .bind("foreignIds", foreignIds)
                .bind("callees", callees)
                .bind("requestIds", requestIds)
                .bind("keyCallIds", keyCallIds)
                .map((row, meta) -> Claim.key(row.get("foreign_id", String.class), row.get("callee", String.class)))
                .all()
                .collect(Collectors.toSet()))
                .flatMap(claimedNow -> owners(accountId, foreignIds, callees, claimedNow));
    }

    /**
     * The pairs a request of the account claimed before, read without claiming (the compliance preview's): the
     * request id that owns each, keyed by {@link Claim#key(String, String)}. Pairs nobody claimed are absent.
     *
     * @param pairs the (foreign id, callee) pairs, each as {@code [foreignId, callee]}
     */
    Mono<Map<String, String>> claimedBefore(String accountId, List<String[]> pairs) {
        if (pairs.isEmpty()) {
            return Mono.just(Map.of());
        }
        String[] foreignIds = pairs.stream().map(pair -> pair[0]).toArray(String[]::new);
        String[] callees = pairs.stream().map(pair -> pair[1]).toArray(String[]::new);
        return owners(accountId, foreignIds, callees, Set.of())
                .map(owners -> owners.entrySet().stream()
                        .collect(Collectors.toMap(Map.Entry::getKey, entry -> entry.getValue().requestId())));
    }

    /** Each pair once, its request's first claim of it, sorted by foreign id then callee. */
    static List<Claim> inLockOrder(List<Claim> claims) {
        Map<String, Claim> firstOfEachPair = new LinkedHashMap<>();
        claims.forEach(claim -> firstOfEachPair.putIfAbsent(claim.key(), claim));
        return firstOfEachPair.values().stream()
                .sorted(Comparator.comparing(Claim::foreignId).thenComparing(Claim::callee))
                .toList();
    }

    private Mono<Map<String, Owner>> owners(String accountId, String[] foreignIds, String[] callees,
                                            Set<String> claimedNow) {
        return db.sql("""
                        SELECT f.foreign_id, f.callee, f.request_id, f.key_call_id FROM api.foreign_ids f
                        JOIN unnest(:foreignIds::text[], :callees::text[]) AS u(foreign_id, callee)
                            ON f.foreign_id = u.foreign_id AND f.callee = u.callee
                        WHERE f.account_id = :account""")
                .bind("account", accountId)
                .bind("foreignIds", foreignIds)
                .bind("callees", callees)
                .map((row, meta) -> new Claim(row.get("foreign_id", String.class), row.get("callee", String.class),
                        row.get("request_id", String.class), row.get("key_call_id", String.class)))
                .all()
                .collectMap(Claim::key, claim -> new Owner(claim.requestId(), claim.keyCallId(),
                        claimedNow.contains(claim.key())), HashMap::new);
    }
}
