package dev.dialer.dispatcher.retry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Rows held because no carrier of their route would take the call now go behind the rows due after them, on the real
 * PostgreSQL: a long outage of one route, whose held rows are older than everything else, must not starve the
 * retries, window releases and parked calls of the other routes.
 */
class HeldRowsIT extends DispatcherOnDatabase {

    /** Far from the scheduler's own clock, so that it never claims these rows itself. */
    private static final Instant T0 = Instant.now().plus(Duration.ofDays(3)).truncatedTo(ChronoUnit.MILLIS);

    @Autowired
    AttemptLedger attempts;

    @Test
    void aHeldRowIsClaimedAgainOnlyAfterTheRowsDueBeforeItWasHeld() {
        RetrySchedule schedule = new RetrySchedule(db);
        String outageA = waiting(T0.minusSeconds(60));
        String outageB = waiting(T0.minusSeconds(59));
        String otherRoute = waiting(T0.minusSeconds(30));

        List<ScheduledAttempt> first = schedule.claimDue(T0, Duration.ofSeconds(30), 2).collectList().block(WAIT);
        assertThat(first).extracting(row -> row.command().requestId()).containsExactlyInAnyOrder(outageA, outageB);
        for (ScheduledAttempt row : first) {
            schedule.holdUntil(row.command().requestId(), row.attempt(), row.dueAt(), T0.plusSeconds(5)).block(WAIT);
        }

        // The outage goes on: once the hold ends, the other route's row, due before it, comes first.
        Instant later = T0.plusSeconds(6);
        assertThat(schedule.claimDue(later, Duration.ofSeconds(30), 1).collectList().block(WAIT))
                .extracting(row -> row.command().requestId()).containsExactly(otherRoute);
        List<ScheduledAttempt> again = schedule.claimDue(later, Duration.ofSeconds(30), 2).collectList().block(WAIT);
        assertThat(again).extracting(row -> row.command().requestId()).containsExactlyInAnyOrder(outageA, outageB);

        // A held row stays one row, and is still removed by the due time it was claimed at.
        ScheduledAttempt a = again.stream().filter(row -> row.command().requestId().equals(outageA)).findFirst()
                .orElseThrow();
        schedule.remove(outageA, 1, a.dueAt()).block(WAIT);
        assertThat(rows(outageA)).isZero();
    }

    /** A recorded request with a retry row due at {@code dueAt}. */
    private String waiting(Instant dueAt) {
        CallCommand command = new CallCommand(1, "held-" + UUID.randomUUID(), "acc-held", "+4930555004",
                "+4915112340301", null, "a.wav", null, 0, 3, 1, null, null, null, null, null, null, null, null,
                Instant.now());
        attempts.record(command).block(WAIT);
        db.sql("""
                        INSERT INTO dispatch.schedule (request_id, attempt_no, due_at, reason, command)
                        VALUES ($1, 1, $2, 'retry', $3::jsonb)""")
                .bind(0, command.requestId())
                .bind(1, dueAt)
                .bind(2, new String(Contract.toBytes(command), StandardCharsets.UTF_8))
                .then()
                .block(WAIT);
        return command.requestId();
    }

    private long rows(String requestId) {
        return db.sql("SELECT count(*) FROM dispatch.schedule WHERE request_id = $1")
                .bind(0, requestId)
                .map(row -> row.get(0, Long.class))
                .one()
                .block(WAIT);
    }
}
