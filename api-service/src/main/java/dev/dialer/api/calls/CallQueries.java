package dev.dialer.api.calls;

import dev.dialer.api.problem.NulCharacters;
import dev.dialer.api.problem.Problems;
import io.r2dbc.spi.Readable;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.DatabaseClient.GenericExecuteSpec;
import org.springframework.stereotype.Component;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Reads of the calls read model, every one scoped to the asking account. A call of a recorded send (decision 0086)
 * that the events have not yet given a row of its own is read from its send, as {@code queued}; each query reads both
 * in one statement, so a call is never seen twice or missed while its row is being created.
 */
@Component
class CallQueries {

    private static final String COLUMNS = """
            id, status, final_status, campaign, foreign_id, caller_id, callee, attempts_used, max_attempts,
            next_attempt_at, error_code, error_message, created_at, updated_at, finished_at, cancel_rejected_at""";

    /**
     * The {@link #COLUMNS} of a call read from its send {@code s}: queued, no attempt yet, as its row would be.
     *
     * @param id     the call's id
     * @param callee the call's callee
     */
    private static String sentColumns(String id, String callee) {
        return id + ", 'queued', NULL, s.campaign, NULL, s.caller_id, " + callee
                + ", 0, s.max_attempts, NULL, NULL, NULL, s.created_at, s.created_at, NULL, NULL";
    }

    /** The calls of the account's sends {@code s} that have no row of their own, as {@code r(id, callee, pos)}. */
    private static final String SENT_CALLS = "api.accepted_sends s CROSS JOIN LATERAL (%s) r"
            .formatted(SentCall.waiting("")) + " WHERE s.account_id = :account";

    /**
     * A page of the calls of the account's sends {@code s} without a row of their own, newest first, as
     * {@code r(id, callee, pos)}: the sends are read newest first from their index, each only until it gave a page
     * (a call's id orders as its send's id, then its position), so a page costs the calls it shows and those of the
     * sends before it that all have rows (which the pruner deletes), not every call the account has waiting.
     *
     * @param campaign the campaign filter, or empty
     * @param after    whether the page starts after a cursor ({@code :afterTime}, {@code :afterId})
     */
    private static String sentPage(String campaign, boolean after) {
        String page = (after
                ? "AND (s.created_at, api.sent_call_id(s.id, u.pos) COLLATE \"C\") < (:afterTime, :afterId)" : "")
                + " ORDER BY u.pos DESC LIMIT :limit";
        return """
                SELECT %s
                  FROM api.accepted_sends s CROSS JOIN LATERAL (%s) r
                 WHERE s.account_id = :account %s %s
                 ORDER BY s.created_at DESC, s.id DESC, r.pos DESC LIMIT :limit""".formatted(
                sentColumns("r.id", "r.callee"), SentCall.waiting(page), campaign,
                after ? "AND s.created_at <= :afterTime" : "");
    }

    /**
     * How long a campaign's counts are answered after they were counted: a poll within it is answered from this
     * instance's memory, not counted again ({@link #campaign}).
     */
    static final Duration PROGRESS_KEPT = Duration.ofSeconds(2);
    /** How long counting a campaign may take: a count on a connection that hangs fails, and the next one counts. */
    static final Duration PROGRESS_LIMIT = Duration.ofSeconds(30);

    /** A list filter; null fields do not filter. */
    record Filter(String campaign, String status, String foreignId) {
    }

    /** A campaign of an account, as its counts are shared. */
    private record CampaignKey(String accountId, String campaign) {
    }

    private final DatabaseClient db;
    private final TransactionalOperator transactions;
    private final CoalescedQueries<CampaignKey, List<StatusCount>> campaignCounts;

    CallQueries(DatabaseClient db, ReactiveTransactionManager tx) {
        this.db = db;
        this.transactions = TransactionalOperator.create(tx);
        this.campaignCounts = new CoalescedQueries<>(key -> counts(key.accountId(), key.campaign()), PROGRESS_KEPT,
                PROGRESS_LIMIT, Schedulers.parallel());
    }

    Mono<CallViews.Call> find(String accountId, String id) {
        SentCall sent = SentCall.of(id);
        String own = "SELECT " + COLUMNS + " FROM api.calls WHERE id = :id AND account_id = :account";
        GenericExecuteSpec spec = db.sql(sent == null ? own
                        : own + "\nUNION ALL\nSELECT " + sentColumns(":id", SentCall.CALLEE) + SentCall.FROM_ITS_SEND)
                .bind("id", id)
                .bind("account", accountId);
        if (sent != null) {
            spec = sent.bind(spec);
        }
        return spec.map(CallQueries::call)
                .one()
                .flatMap(call -> attempts(id, accountId).map(attempts -> withAttempts(call, attempts)));
    }

    /**
     * Newest first; {@code limit} rows after the cursor. Calls read from their sends are all {@code queued} and have
     * no {@code foreign_id}: a filter on another status or on a {@code foreign_id} leaves them out.
     */
    Mono<CallViews.Page> list(String accountId, Filter filter, String cursor, int limit) {
        return listing(accountId, filter, cursor, limit).on(db)
                .map(CallQueries::call).all().collectList().map(rows -> page(rows, limit));
    }

    /** A statement and the values it binds, by name. */
    record Statement(String sql, Map<String, Object> values) {

        /** The statement with its values bound, {@code prefix} put before it ({@code "EXPLAIN "} to read its plan). */
        GenericExecuteSpec on(DatabaseClient db, String prefix) {
            GenericExecuteSpec spec = db.sql(prefix + sql);
            for (Map.Entry<String, Object> value : values.entrySet()) {
                spec = spec.bind(value.getKey(), value.getValue());
            }
            return spec;
        }

        GenericExecuteSpec on(DatabaseClient db) {
            return on(db, "");
        }
    }

    /** The statement {@link #list} runs: built apart, so that its plan can be read as it is run. */
    static Statement listing(String accountId, Filter filter, String cursor, int limit) {
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM api.calls WHERE account_id = :account");
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("account", accountId);
        values.put("limit", limit + 1);
        Cursor after = cursor == null ? null : Cursor.parse(cursor);
        boolean sent = filter.foreignId() == null
                && (filter.status() == null || CallStatuses.QUEUED.equals(filter.status()));
        if (filter.campaign() != null) {
            sql.append(" AND campaign = :campaign");
            values.put("campaign", filter.campaign());
        }
        if (filter.status() != null) {
            sql.append(" AND status = :status");
            values.put("status", filter.status());
        }
        if (filter.foreignId() != null) {
            sql.append(" AND foreign_id = :foreign");
            values.put("foreign", filter.foreignId());
        }
        if (after != null) {
            sql.append(" AND (created_at, id) < (:afterTime, :afterId)");
            values.put("afterTime", OffsetDateTime.ofInstant(after.createdAt(), ZoneOffset.UTC));
            values.put("afterId", after.id());
        }
        sql.append(" ORDER BY created_at DESC, id DESC LIMIT :limit");
        if (sent) {
            sql.insert(0, '(').append(")\nUNION ALL\n(")
                    .append(sentPage(filter.campaign() != null ? "AND s.campaign = :campaign" : "",
                            after != null))
                    .append(")\nORDER BY created_at DESC, id DESC LIMIT :limit");
        }
        return new Statement(sql.toString(), values);
    }

    /**
     * The campaign's progress: its calls counted by status, and its state. Counting reads every call of the campaign,
     * seconds for millions of them while it holds a connection of the pool; so the requests for one campaign share a
     * count, the one running or one made at most {@link #PROGRESS_KEPT} ago ({@link CoalescedQueries}), and a few
     * dashboards polling it cost one count every two seconds. The state is one row, read for each request: a pause,
     * resume or cancel shows at once.
     */
    Mono<CallViews.Campaign> campaign(String accountId, String name) {
        return campaignCounts.get(new CampaignKey(accountId, name))
                .zipWith(campaignState(accountId, name).defaultIfEmpty(""))
                .flatMap(counts -> counts.getT1().isEmpty() && counts.getT2().isEmpty() ? Mono.empty()
                        : Mono.just(campaignView(name, counts.getT2(), counts.getT1())));
    }

    /**
     * The campaign's calls counted by status, its waiting calls of recorded sends among the queued ones. PostgreSQL
     * stops the count itself at {@link #PROGRESS_LIMIT} ({@code statement_timeout} for its transaction): the limit of
     * {@link CoalescedQueries} answers the requests, but a count it gave up on would otherwise run on in the database,
     * and a dashboard polling a campaign too large to count in time would pile up counts.
     */
    private Mono<List<StatusCount>> counts(String accountId, String name) {
        return db.sql("SET LOCAL statement_timeout = '" + PROGRESS_LIMIT.toMillis() + "ms'").then()
                .then(countsNow(accountId, name))
                .as(transactions::transactional);
    }

    private Mono<List<StatusCount>> countsNow(String accountId, String name) {
        return db.sql("""
                        SELECT status, finished, count(*) AS n FROM (
                            SELECT status, final_status IS NOT NULL AS finished FROM api.calls
                             WHERE account_id = :account AND campaign = :campaign
                            UNION ALL
                            SELECT 'queued', false FROM %s AND s.campaign = :campaign) calls
                        GROUP BY status, finished""".formatted(SENT_CALLS))
                .bind("account", accountId)
                .bind("campaign", name)
                .map((row, meta) -> new StatusCount(row.get("status", String.class),
                        Boolean.TRUE.equals(row.get("finished", Boolean.class)), row.get("n", Long.class)))
                .all().collectList();
    }

    private Mono<String> campaignState(String accountId, String name) {
        return db.sql("SELECT state FROM api.campaign_states WHERE account_id = :account AND campaign = :campaign")
                .bind("account", accountId)
                .bind("campaign", name)
                .map((row, meta) -> row.get("state", String.class))
                .one();
    }

    private record StatusCount(String status, boolean finished, long count) {
    }

    private static CallViews.Campaign campaignView(String name, String state, List<StatusCount> counts) {
        Map<String, Long> byStatus = new LinkedHashMap<>();
        Map<String, Long> byFinal = new LinkedHashMap<>();
        long total = 0;
        long finished = 0;
        for (String status : CallStatuses.ALL) {
            for (StatusCount count : counts) {
                if (count.status().equals(status)) {
                    byStatus.merge(status, count.count(), Long::sum);
                    if (count.finished()) {
                        byFinal.merge(status, count.count(), Long::sum);
                    }
                }
            }
        }
        for (StatusCount count : counts) {
            total += count.count();
            finished += count.finished() ? count.count() : 0;
        }
        double progress = total == 0 ? 0 : Math.round(10_000.0 * finished / total) / 10_000.0;
        return new CallViews.Campaign(name, state.isEmpty() ? "active" : state, total, finished, progress, byStatus,
                byFinal);
    }

    /** The call's attempts, the account's only: an attempt row is written under the account its event names. */
    private Mono<List<CallViews.Attempt>> attempts(String id, String accountId) {
        return db.sql("""
                        SELECT number, status, provider_status, provider_call_id, sip_status, sip_reason, answered_by,
                            duration_seconds, started_at, updated_at, ended_at
                        FROM api.call_attempts WHERE call_id = :id AND account_id = :account ORDER BY number""")
                .bind("id", id)
                .bind("account", accountId)
                .map((row, meta) -> new CallViews.Attempt(row.get("number", Integer.class),
                        row.get("status", String.class), row.get("provider_status", String.class),
                        row.get("provider_call_id", String.class), row.get("sip_status", Integer.class),
                        row.get("sip_reason", String.class), row.get("answered_by", String.class),
                        row.get("duration_seconds", Integer.class), time(row, "started_at"),
                        time(row, "updated_at"), time(row, "ended_at")))
                .all().collectList();
    }

    private static CallViews.Page page(List<CallViews.Call> rows, int limit) {
        if (rows.size() <= limit) {
            return new CallViews.Page(rows, null);
        }
        List<CallViews.Call> data = new ArrayList<>(rows.subList(0, limit));
        CallViews.Call last = data.get(limit - 1);
        return new CallViews.Page(data, new Cursor(last.createdAt(), last.id()).encode());
    }

    private static CallViews.Call call(Readable row) {
        String errorCode = row.get("error_code", String.class);
        return new CallViews.Call(row.get("id", String.class), row.get("status", String.class),
                row.get("final_status", String.class), row.get("campaign", String.class),
                row.get("foreign_id", String.class), row.get("caller_id", String.class),
                row.get("callee", String.class), row.get("attempts_used", Integer.class),
                row.get("max_attempts", Integer.class), time(row, "next_attempt_at"),
                errorCode == null ? null : new CallViews.Error(errorCode, row.get("error_message", String.class)),
                time(row, "created_at"), time(row, "updated_at"), time(row, "finished_at"),
                time(row, "cancel_rejected_at"), null);
    }

    private static CallViews.Call withAttempts(CallViews.Call c, List<CallViews.Attempt> attempts) {
        return new CallViews.Call(c.id(), c.status(), c.finalStatus(), c.campaign(), c.foreignId(), c.callerId(),
                c.to(), c.attemptsUsed(), c.maxAttempts(), c.nextAttemptAt(), c.error(), c.createdAt(),
                c.updatedAt(), c.finishedAt(), c.cancelRejectedAt(), attempts);
    }

    private static Instant time(Readable row, String column) {
        return Sql.instant(row.get(column, OffsetDateTime.class));
    }

    /**
     * An opaque position in the newest-first order: the last row's creation time (microseconds since 1970, negative
     * before) and id. Clients can make one by hand, so {@link #parse} accepts only what a row could hold: a time of the
     * years 1 to 9999, as RFC 3339 writes them and so as a command's {@code created_at} may carry them (one outside
     * PostgreSQL's range, or the driver's, would fail the query), and an id without a NUL character.
     */
    record Cursor(Instant createdAt, String id) {

        private static final long MIN_MICROS = micros(Instant.parse("0001-01-01T00:00:00Z"));
        private static final long MAX_MICROS = micros(Instant.parse("9999-12-31T23:59:59.999999Z"));

        String encode() {
            return Base64.getUrlEncoder().withoutPadding()
                    .encodeToString((micros(createdAt) + "|" + id).getBytes(StandardCharsets.UTF_8));
        }

        /**
         * Microseconds since 1970. Not {@code ChronoUnit.MICROS.between}, which counts in nanoseconds: a time more than
         * 292 years from 1970 (a command's {@code created_at} of 0001-01-01, Go's zero time) overflowed it.
         */
        private static long micros(Instant instant) {
            return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000);
        }

        static Cursor parse(String text) {
            try {
                String decoded = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
                int bar = decoded.indexOf('|');
                long micros = Long.parseLong(decoded.substring(0, bar));
                String id = decoded.substring(bar + 1);
                if (micros < MIN_MICROS || micros > MAX_MICROS || NulCharacters.in(id)) {
                    throw new IllegalArgumentException("no position a row could have");
                }
                return new Cursor(Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L),
                        Math.floorMod(micros, 1_000_000L) * 1_000L), id);
            } catch (RuntimeException e) {
                throw Problems.validation("cursor", "is not a cursor this API returned");
            }
        }
    }
}
