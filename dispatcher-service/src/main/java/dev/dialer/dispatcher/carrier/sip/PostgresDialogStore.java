package dev.dialer.dispatcher.carrier.sip;

import io.r2dbc.spi.Readable;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@link DialogStore} in {@code dispatch.sip_dialogs}. Each carrier instance is one {@code owner}; its lease is
 * renewed while it lives. A lapsed lease (the process died) or a released one (it stopped) lets any instance claim the
 * calls, {@code FOR UPDATE SKIP LOCKED}, so two never take over the same call.
 */
final class PostgresDialogStore implements DialogStore {

    private static final String COLUMNS = """
            call_id, request_id, attempt_no, dial_no, trunk, state, invite_uri, via_branch, via_host, via_port,
            local_uri, local_tag, remote_uri, remote_tag, remote_target, route_set, local_cseq, answered_at""";

    /** The columns a call's progress changes, in the order {@link #bindChanging} binds them. */
    private static final String CHANGING = """
            state, invite_uri, via_branch, via_host, via_port, remote_tag, remote_target, route_set, local_cseq,
            answered_at""";

    private final DatabaseClient db;
    private final String owner;
    private final Duration lease;

    PostgresDialogStore(DatabaseClient db, String owner, Duration lease) {
        this.db = db;
        this.owner = owner;
        this.lease = lease;
    }

    @Override
    public Mono<Void> save(SipDialog dialog) {
        DatabaseClient.GenericExecuteSpec spec = db.sql("""
                        INSERT INTO dispatch.sip_dialogs AS d (call_id, request_id, attempt_no, trunk, local_uri,
                            local_tag, remote_uri, %s, owner, lease_until, dial_no)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                                now() + $19 * interval '1 millisecond', $20)
                        ON CONFLICT (call_id) DO UPDATE SET
                            state = EXCLUDED.state, invite_uri = EXCLUDED.invite_uri,
                            via_branch = EXCLUDED.via_branch, via_host = EXCLUDED.via_host,
                            via_port = EXCLUDED.via_port, remote_tag = EXCLUDED.remote_tag,
                            remote_target = EXCLUDED.remote_target, route_set = EXCLUDED.route_set,
                            local_cseq = EXCLUDED.local_cseq, answered_at = EXCLUDED.answered_at,
                            lease_until = EXCLUDED.lease_until, updated_at = now()
                        WHERE d.owner = EXCLUDED.owner"""
                        .formatted(CHANGING))
                .bind(0, dialog.callId())
                .bind(1, dialog.requestId())
                .bind(2, dialog.attempt())
                .bind(3, dialog.trunk())
                .bind(4, dialog.localUri())
                .bind(5, dialog.localTag())
                .bind(6, dialog.remoteUri());
        spec = bindChanging(spec, 7, dialog).bind(17, owner).bind(18, lease.toMillis());
        return bindNullable(spec, 19, dialog.dial(), Integer.class).fetch().rowsUpdated()
                .flatMap(written -> written > 0 ? Mono.<Void>empty() : Mono.error(new IllegalStateException(
                        "SIP call " + dialog.callId() + " is held by another dispatcher")));
    }

    @Override
    public Mono<Boolean> update(SipDialog dialog) {
        DatabaseClient.GenericExecuteSpec spec = db.sql("""
                        UPDATE dispatch.sip_dialogs SET (%s) = ($2, $3, $4, $5, $6, $7, $8, $9, $10, $11),
                            lease_until = now() + $13 * interval '1 millisecond', updated_at = now()
                         WHERE call_id = $1 AND owner = $12""".formatted(CHANGING))
                .bind(0, dialog.callId());
        return bindChanging(spec, 1, dialog).bind(11, owner).bind(12, lease.toMillis()).fetch().rowsUpdated()
                .map(written -> written > 0);
    }

    /** Binds the {@link #CHANGING} columns of {@code dialog}, in their order, from parameter {@code first} on. */
    private static DatabaseClient.GenericExecuteSpec bindChanging(DatabaseClient.GenericExecuteSpec spec, int first,
                                                                 SipDialog dialog) {
        spec = spec.bind(first, dialog.state().wire())
                .bind(first + 1, dialog.inviteUri())
                .bind(first + 2, dialog.viaBranch())
                .bind(first + 3, dialog.viaHost())
                .bind(first + 4, dialog.viaPort());
        spec = bindNullable(spec, first + 5, dialog.remoteTag(), String.class);
        spec = bindNullable(spec, first + 6, dialog.remoteTarget(), String.class);
        spec = bindNullable(spec, first + 7, dialog.routeSet().isEmpty() ? null
                : String.join("\n", dialog.routeSet()), String.class);
        spec = spec.bind(first + 8, dialog.localCseq());
        return bindNullable(spec, first + 9, dialog.answeredAt() == null ? null
                : dialog.answeredAt().atOffset(ZoneOffset.UTC), OffsetDateTime.class);
    }

    @Override
    public Mono<Void> forget(String callId) {
        return db.sql("DELETE FROM dispatch.sip_dialogs WHERE call_id = $1 AND owner = $2")
                .bind(0, callId)
                .bind(1, owner)
                .then();
    }

    @Override
    public Mono<SipDialog> find(String callId) {
        return db.sql("SELECT " + COLUMNS + " FROM dispatch.sip_dialogs WHERE call_id = $1")
                .bind(0, callId)
                .map(PostgresDialogStore::dialog)
                .one();
    }

    @Override
    public Mono<SipDialog.State> requestHangUp(String callId) {
        return db.sql("""
                        UPDATE dispatch.sip_dialogs SET hangup_requested_at = CASE WHEN state = $2
                               THEN hangup_requested_at ELSE coalesce(hangup_requested_at, now()) END
                         WHERE call_id = $1
                        RETURNING state""")
                .bind(0, callId)
                .bind(1, SipDialog.State.CONFIRMED.wire())
                .map(row -> SipDialog.State.fromWire(row.get(0, String.class)))
                .one();
    }

    @Override
    public Flux<String> hangUpsRequested() {
        return db.sql("SELECT call_id FROM dispatch.sip_dialogs WHERE owner = $1 AND hangup_requested_at IS NOT NULL")
                .bind(0, owner)
                .map(row -> row.get("call_id", String.class))
                .all();
    }

    @Override
    public Flux<String> renewLeases(Collection<String> running) {
        if (running.isEmpty()) {
            return Flux.empty();
        }
        return db.sql("""
                        WITH renewed AS (
                            UPDATE dispatch.sip_dialogs SET lease_until = now() + $2 * interval '1 millisecond'
                             WHERE owner = $1 AND call_id = ANY($3)
                            RETURNING call_id)
                        SELECT running.call_id FROM unnest($3::text[]) AS running(call_id)
                         WHERE NOT EXISTS (SELECT 1 FROM renewed WHERE renewed.call_id = running.call_id)""")
                .bind(0, owner)
                .bind(1, lease.toMillis())
                .bind(2, running.toArray(String[]::new))
                .map(row -> row.get("call_id", String.class))
                .all();
    }

    @Override
    public Mono<Void> releaseLeases() {
        return db.sql("UPDATE dispatch.sip_dialogs SET lease_until = now() WHERE owner = $1")
                .bind(0, owner)
                .then();
    }

    @Override
    public Mono<Void> release(String callId) {
        return db.sql("UPDATE dispatch.sip_dialogs SET lease_until = now() WHERE call_id = $1 AND owner = $2")
                .bind(0, callId)
                .bind(1, owner)
                .then();
    }

    @Override
    public Flux<SipDialog> claimOrphans(int limit) {
        return db.sql("""
                        WITH orphans AS (
                            SELECT call_id FROM dispatch.sip_dialogs
                             WHERE lease_until <= now()
                             ORDER BY lease_until
                             LIMIT $3
                             FOR UPDATE SKIP LOCKED)
                        UPDATE dispatch.sip_dialogs d
                           SET owner = $1, lease_until = now() + $2 * interval '1 millisecond', updated_at = now()
                          FROM orphans
                         WHERE d.call_id = orphans.call_id
                        RETURNING %s""".formatted(prefixed()))
                .bind(0, owner)
                .bind(1, lease.toMillis())
                .bind(2, limit)
                .map(PostgresDialogStore::dialog)
                .all()
                // Handed on once the claim committed: PostgreSQL may send a large result's first rows before its
                // implicit transaction commits, and a recovery that ended then would forget a row still owned by its
                // former holder (the delete matches on this owner), to be taken over and ended again.
                .collectList()
                .flatMapIterable(dialogs -> dialogs);
    }

    private static String prefixed() {
        return Arrays.stream(COLUMNS.split(",")).map(column -> "d." + column.strip())
                .reduce((a, b) -> a + ", " + b).orElseThrow();
    }

    private static SipDialog dialog(Readable row) {
        String routes = row.get("route_set", String.class);
        OffsetDateTime answered = row.get("answered_at", OffsetDateTime.class);
        return new SipDialog(row.get("call_id", String.class), row.get("request_id", String.class),
                row.get("attempt_no", Integer.class), row.get("dial_no", Integer.class), row.get("trunk", String.class),
                SipDialog.State.fromWire(row.get("state", String.class)), row.get("invite_uri", String.class),
                row.get("via_branch", String.class), row.get("via_host", String.class),
                row.get("via_port", Integer.class), row.get("local_uri", String.class),
                row.get("local_tag", String.class), row.get("remote_uri", String.class),
                row.get("remote_tag", String.class), row.get("remote_target", String.class),
                routes == null ? List.of() : List.of(routes.split("\n")), row.get("local_cseq", Long.class),
                answered == null ? null : answered.toInstant());
    }

    private static <T> DatabaseClient.GenericExecuteSpec bindNullable(DatabaseClient.GenericExecuteSpec spec,
                                                                      int index, T value, Class<T> type) {
        return value == null ? spec.bindNull(index, type) : spec.bind(index, value);
    }
}
