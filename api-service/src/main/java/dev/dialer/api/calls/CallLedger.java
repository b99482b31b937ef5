package dev.dialer.api.calls;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * What other features need from the calls read model: recording the calls the API itself accepted (so a call just
 * sent is found before its first event arrives), a call's state for cancel, whether a campaign exists, and the
 * callee history behind the per-callee cap.
 */
@Component
public class CallLedger implements AcceptedCalls {

    /** The window of the per-callee cap. */
    public static final Duration CAP_WINDOW = Duration.ofHours(24);

    private final DatabaseClient db;

    CallLedger(DatabaseClient db) {
        this.db = db;
    }

    /**
     * A call the API accepted.
     *
     * @param requestId   its id
     * @param callerId    E.164
     * @param callee      E.164
     * @param campaign    or null
     * @param foreignId   or null
     * @param maxAttempts attempts it may use
     */
    public record Accepted(String requestId, String callerId, String callee, String campaign, String foreignId,
                           int maxAttempts) {
    }

    /** A call's id and its final status, null while it is not final. */
    public record State(String requestId, String status, String finalStatus) {

        public boolean isFinal() {
            return finalStatus != null;
        }
    }

    /**
     * Records accepted calls as {@code queued}, in one statement; a row the events already created is left as it is.
     * Runs inside the caller's transaction when there is one.
     */
    @Override
    public Mono<Void> recordAccepted(String accountId, List<Accepted> calls, Instant createdAt) {
        if (calls.isEmpty()) {
            return Mono.empty();
        }
        int size = calls.size();
        String[] ids = new String[size];
        String[] callers = new String[size];
        String[] callees = new String[size];
        String[] campaigns = new String[size];
        String[] foreignIds = new String[size];
        Integer[] maxAttempts = new Integer[size];
        for (int i = 0; i < size; i++) {
            Accepted call = calls.get(i);
            ids[i] = call.requestId();
            callers[i] = call.callerId();
            callees[i] = call.callee();
            campaigns[i] = call.campaign();
            foreignIds[i] = call.foreignId();
            maxAttempts[i] = call.maxAttempts();
        }
        return db.sql("""
                        INSERT INTO api.calls (id, account_id, campaign, foreign_id, caller_id, callee, status,
                            max_attempts, created_at, updated_at)
                        SELECT u.id, :account, u.campaign, u.foreign_id, u.caller_id, u.callee, 'queued', u.max_attempts,
                            :created, :created
                        FROM unnest(:ids::text[], :campaigns::text[], :foreignIds::text[], :callers::text[],
                            :callees::text[], :maxAttempts::int[])
                            AS u(id, campaign, foreign_id, caller_id, callee, max_attempts)
                        ON CONFLICT (id) DO NOTHING""")
                .bind("account", accountId)
                .bind("created", OffsetDateTime.ofInstant(createdAt, ZoneOffset.UTC))
                .bind("ids", ids)
                .bind("campaigns", campaigns)
                .bind("foreignIds", foreignIds)
                .bind("callers", callers)
                .bind("callees", callees)
                .bind("maxAttempts", maxAttempts)
                .then();
    }

    /** The account's call, empty when it has none of that id (another account's call included). */
    public Mono<State> state(String accountId, String requestId) {
        return db.sql("SELECT id, status, final_status FROM api.calls WHERE id = :id AND account_id = :account")
                .bind("id", requestId)
                .bind("account", accountId)
                .map((row, meta) -> new State(row.get("id", String.class), row.get("status", String.class),
                        row.get("final_status", String.class)))
                .one();
    }

    /** Whether the account has a call in that campaign. */
    public Mono<Boolean> hasCampaign(String accountId, String campaign) {
        return db.sql("SELECT 1 FROM api.calls WHERE account_id = :account AND campaign = :campaign LIMIT 1")
                .bind("account", accountId)
                .bind("campaign", campaign)
                .map((row, meta) -> Boolean.TRUE)
                .one()
                .defaultIfEmpty(Boolean.FALSE);
    }

    /**
     * When the per-callee cap lets the next call to each of {@code callees} through, in one query. A callee to whom
     * {@code cap} attempts were placed in the {@link #CAP_WINDOW} before {@code now} is mapped to the moment the
     * oldest of its last {@code cap} attempts leaves the window; the others are absent (free now). Counts attempts
     * the dialer placed, across campaigns.
     */
    public Mono<Map<String, Instant>> capsFreeAt(String accountId, Collection<String> callees, int cap, Instant now) {
        return db.sql("""
                        SELECT callee, started_at FROM (
                            SELECT callee, started_at,
                                   row_number() OVER (PARTITION BY callee ORDER BY started_at DESC) AS newest
                              FROM api.call_attempts
                             WHERE account_id = :account AND callee = ANY(:callees) AND started_at > :since) recent
                         WHERE newest = :cap""")
                .bind("account", accountId)
                .bind("callees", callees.toArray(String[]::new))
                .bind("since", OffsetDateTime.ofInstant(now.minus(CAP_WINDOW), ZoneOffset.UTC))
                .bind("cap", cap)
                .map((row, meta) -> Map.entry(row.get("callee", String.class),
                        row.get("started_at", OffsetDateTime.class).toInstant().plus(CAP_WINDOW)))
                .all()
                .collectMap(Map.Entry::getKey, Map.Entry::getValue);
    }

    /** Forgets applied event ids older than {@code keep}: redeliveries come within the topic's retention. */
    Mono<Long> pruneApplied(Duration keep) {
        return db.sql("DELETE FROM api.call_events_applied WHERE applied_at < now() - make_interval(secs => :secs)")
                .bind("secs", (double) keep.toSeconds())
                .fetch().rowsUpdated();
    }
}
