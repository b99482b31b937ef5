package dev.dialer.dispatcher.attempt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.dispatcher.DispatcherOnDatabase;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

/**
 * The ledger's retention on the real PostgreSQL, with its default of 30 days: which ended requests a purge deletes,
 * with what, and what it leaves.
 */
// Only the purges the tests run: none of the service's own in between.
@TestPropertySource(properties = "dialer.dispatcher.ledger.purge-interval=PT1H")
class LedgerRetentionIT extends DispatcherOnDatabase {

    @Autowired
    LedgerRetention retention;

    @Test
    void anEndedRequestPastTheRetentionGoesWithItsAttemptsAndWhatHangsOffThemAndNoOtherDoes() {
        String run = "it-ledger-" + UUID.randomUUID() + "-";
        request(run + "old", "40 days", true);
        attempt(run + "old", 1);
        attempt(run + "old", 2);
        db.sql("INSERT INTO dispatch.answered_by (request_id, attempt_no, answered_by) VALUES ($1, 2, 'human')")
                .bind(0, run + "old").then().block(WAIT);
        db.sql("INSERT INTO dispatch.cancel_rejections (event_id, request_id) VALUES ($1 || '-rejected', $1)")
                .bind(0, run + "old").then().block(WAIT);
        request(run + "waiting", "40 days", true);
        attempt(run + "waiting", 1);
        db.sql("""
                        INSERT INTO dispatch.schedule (request_id, attempt_no, due_at, reason, command)
                        VALUES ($1, 2, now() + interval '1 year', 'retry', '{}'::jsonb)""")
                .bind(0, run + "waiting").then().block(WAIT);
        request(run + "recent", "1 day", true);
        attempt(run + "recent", 1);
        request(run + "open", "40 days", false);
        attempt(run + "open", 1);
        // The rows of the cancels naming each request, and a campaign's control, which names none.
        for (String request : List.of("old", "waiting", "recent", "open")) {
            control(run + request, run + request);
        }
        control(run + "campaign", null);

        Long deleted = retention.purge().block(WAIT);

        assertThat(deleted).isGreaterThanOrEqualTo(1);
        assertThat(rows("SELECT request_id FROM dispatch.requests WHERE request_id LIKE $1", run))
                .containsExactlyInAnyOrder(run + "waiting", run + "recent", run + "open");
        assertThat(rows("SELECT request_id || '/' || attempt_no FROM dispatch.attempts WHERE request_id LIKE $1", run))
                .containsExactlyInAnyOrder(run + "waiting/1", run + "recent/1", run + "open/1");
        assertThat(rows("SELECT request_id FROM dispatch.answered_by WHERE request_id LIKE $1", run)).isEmpty();
        assertThat(rows("SELECT request_id FROM dispatch.cancel_rejections WHERE request_id LIKE $1", run)).isEmpty();
        assertThat(rows("SELECT control_id FROM dispatch.applied_controls WHERE control_id LIKE $1", run))
                .containsExactlyInAnyOrder(run + "waiting", run + "recent", run + "open", run + "campaign");
    }

    @Test
    void oneTickDeletesMoreThanOneBatch() {
        String run = "it-ledger-many-" + UUID.randomUUID() + "-";
        int count = LedgerRetention.BATCH * 2 + 500;
        db.sql("""
                        INSERT INTO dispatch.requests (request_id, account_id, caller_id, command, final_status,
                                                       final_at, created_at)
                        SELECT $1 || g, 'acc-ledger', '+4930111222', '{}'::jsonb, 'answered',
                               now() - interval '40 days', now() - interval '41 days'
                          FROM generate_series(1, $2) g""")
                .bind(0, run).bind(1, count).then().block(WAIT);

        Long deleted = retention.purge().block(WAIT);

        assertThat(deleted).isGreaterThanOrEqualTo(count);
        assertThat(rows("SELECT request_id FROM dispatch.requests WHERE request_id LIKE $1", run)).isEmpty();
    }

    /** A request created 41 days ago, ended {@code endedAgo} ago (an interval) or still open. */
    private void request(String requestId, String endedAgo, boolean ended) {
        db.sql("""
                        INSERT INTO dispatch.requests (request_id, account_id, caller_id, command, final_status,
                                                       final_at, created_at)
                        VALUES ($1, 'acc-ledger', '+4930111222', '{}'::jsonb,
                                CASE WHEN $3 THEN 'answered' END, CASE WHEN $3 THEN now() - $2::interval END,
                                now() - interval '41 days')""")
                .bind(0, requestId).bind(1, endedAgo).bind(2, ended).then().block(WAIT);
    }

    /** A control acted upon, naming {@code requestId} (null: a campaign's). */
    private void control(String controlId, String requestId) {
        db.sql("""
                        INSERT INTO dispatch.applied_controls (control_id, outcome, request_id)
                        VALUES ($1, 'applied', NULLIF($2, ''))""")
                .bind(0, controlId).bind(1, requestId == null ? "" : requestId).then().block(WAIT);
    }

    private void attempt(String requestId, int attempt) {
        db.sql("INSERT INTO dispatch.attempts (request_id, attempt_no, status) VALUES ($1, $2, 'completed')")
                .bind(0, requestId).bind(1, attempt).then().block(WAIT);
    }

    private List<String> rows(String sql, String run) {
        return db.sql(sql).bind(0, run + "%").map(row -> row.get(0, String.class)).all().collectList().block(WAIT);
    }
}
