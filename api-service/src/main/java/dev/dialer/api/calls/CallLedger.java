package dev.dialer.api.calls;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
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
    private final QueuedRowBatches batches;

    CallLedger(DatabaseClient db, ReadModelProperties properties, MeterRegistry registry) {
        this.db = db;
        DistributionSummary requestsPerStatement = DistributionSummary
                .builder("dialer.api.accepted.requests_per_statement")
                .description("Send requests whose queued rows one statement wrote (group commit)")
                .register(registry);
        this.batches = new QueuedRowBatches(this::insertQueued, properties.acceptedWriters(),
                properties.acceptedRowsPerStatement(), requestsPerStatement::record);
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
        return insertQueued(List.of(new QueuedRowBatches.Rows(accountId, calls, createdAt)));
    }

    /**
     * As {@link #recordAccepted}, outside any transaction, group-committed with the rows of the requests accepted
     * meanwhile ({@link QueuedRowBatches}): one statement for many concurrent sends.
     */
    @Override
    public Mono<Void> recordAcceptedShared(String accountId, List<Accepted> calls, Instant createdAt) {
        if (calls.isEmpty()) {
            return Mono.empty();
        }
        return batches.record(new QueuedRowBatches.Rows(accountId, calls, createdAt));
    }

    /**
     * The rows of several requests (accounts and times of their own) in one statement. What a request's rows share
     * (account, time) is sent once per request and joined to its rows by the request's position, so a 1,000-row
     * request encodes (and PostgreSQL parses) one timestamp, not 1,000.
     */
    private Mono<Void> insertQueued(List<QueuedRowBatches.Rows> requests) {
        int size = requests.stream().mapToInt(request -> request.calls().size()).sum();
        String[] ids = new String[size];
        String[] callers = new String[size];
        String[] callees = new String[size];
        String[] campaigns = new String[size];
        String[] foreignIds = new String[size];
        Integer[] maxAttempts = new Integer[size];
        Integer[] requestOf = new Integer[size];
        String[] accounts = new String[requests.size()];
        OffsetDateTime[] created = new OffsetDateTime[requests.size()];
        int i = 0;
        for (int r = 0; r < requests.size(); r++) {
            QueuedRowBatches.Rows request = requests.get(r);
            accounts[r] = request.accountId();
            created[r] = OffsetDateTime.ofInstant(request.createdAt(), ZoneOffset.UTC);
            for (Accepted call : request.calls()) {
                ids[i] = call.requestId();
                callers[i] = call.callerId();
                callees[i] = call.callee();
                campaigns[i] = call.campaign();
                foreignIds[i] = call.foreignId();
                maxAttempts[i] = call.maxAttempts();
                requestOf[i] = r + 1;
                i++;
            }
        }
        return db.sql("""
                        INSERT INTO api.calls (id, account_id, campaign, foreign_id, caller_id, callee, status,
                            max_attempts, created_at, updated_at)
                        SELECT c.id, r.account_id, c.campaign, c.foreign_id, c.caller_id, c.callee, 'queued',
                            c.max_attempts, r.created_at, r.created_at
                        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[])
                                AS c(id, campaign, foreign_id, caller_id, callee, max_attempts, request)
                            JOIN unnest($8::text[], $9::timestamptz[]) WITH ORDINALITY
                                AS r(account_id, created_at, request) USING (request)
                        ON CONFLICT (id) DO NOTHING""")
                .bind(0, ids)
                .bind(1, campaigns)
                .bind(2, foreignIds)
                .bind(3, callers)
                .bind(4, callees)
                .bind(5, maxAttempts)
                .bind(6, requestOf)
                .bind(7, accounts)
                .bind(8, created)
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
