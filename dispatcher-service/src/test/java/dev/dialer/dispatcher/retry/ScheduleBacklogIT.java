package dev.dialer.dispatcher.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

/**
 * The gauges of {@code dispatch.schedule} on the real PostgreSQL, read every 200 ms here: every reason has both from
 * the start, and rows waiting for a reason show in its count and its oldest age at the next read, and leave them once
 * deleted. Other test classes may have left rows on this database, so the gauges are compared with the table.
 */
@TestPropertySource(properties = "dialer.dispatcher.schedule.gauge-every=PT0.2S")
class ScheduleBacklogIT extends DispatcherOnDatabase {

    /** Never due while the test runs: the dispatcher's own retry scheduler leaves the rows alone. */
    private static final Instant FAR = Instant.now().plus(Duration.ofDays(30));
    private static final String RUN = "backlog-" + UUID.randomUUID().toString().substring(0, 8) + "-";

    @Autowired
    MeterRegistry meters;

    /** Each reason the table takes has both gauges, registered before any row of it was seen. */
    @Test
    void everyReasonHasBothGaugesFromTheStart() {
        String constraint = db.sql("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                        + "WHERE conname = 'schedule_reason_check' AND conrelid = 'dispatch.schedule'::regclass")
                .map(row -> row.get(0, String.class)).one().block(Duration.ofSeconds(10));
        List<String> reasons = List.of("retry", "capacity", "parked", "window", "paused", "cap");
        assertThat(constraint).as("the reasons the table takes").contains(reasons.stream()
                .map(reason -> "'" + reason + "'").toList());
        assertThat(reasons).allSatisfy(reason -> {
            assertThat(meters.find("dialer.dispatcher.schedule.rows").tag("reason", reason).gauge()).isNotNull();
            assertThat(meters.find("dialer.dispatcher.schedule.oldest.age").tag("reason", reason).gauge())
                    .isNotNull();
        });
    }

    @Test
    void rowsWaitingForAReasonShowInItsCountAndTheOldestInItsAge() {
        for (int row = 0; row < 3; row++) {
            waitingSince(RUN + row, "cap", Duration.ofHours(1).plusSeconds(row));
        }

        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(gauge("rows", "cap")).isEqualTo(tableRows("cap")).isGreaterThanOrEqualTo(3);
            assertThat(gauge("oldest.age", "cap")).isGreaterThanOrEqualTo(3601);
        });

        db.sql("DELETE FROM dispatch.schedule WHERE request_id LIKE $1").bind(0, RUN + "%").then()
                .then(db.sql("DELETE FROM dispatch.requests WHERE request_id LIKE $1").bind(0, RUN + "%").then())
                .block(WAIT);

        await().atMost(WAIT).untilAsserted(() -> assertThat(gauge("rows", "cap")).isEqualTo(tableRows("cap")));
    }

    private double gauge(String name, String reason) {
        return meters.get("dialer.dispatcher.schedule." + name).tag("reason", reason).gauge().value();
    }

    private double tableRows(String reason) {
        return db.sql("SELECT count(*) FROM dispatch.schedule WHERE reason = $1")
                .bind(0, reason)
                .map(row -> row.get(0, Long.class))
                .one()
                .block(WAIT);
    }

    /** A request whose attempt 1 has waited for {@code reason} since {@code waited} ago. */
    private void waitingSince(String requestId, String reason, Duration waited) {
        CallCommand command = new CallCommand(1, requestId, "acc-backlog", "+4930555005", "+4915112340302", null,
                "a.wav", null, 0, 3, 1, null, null, null, null, null, null, null, null, Instant.now());
        db.sql("""
                        INSERT INTO dispatch.requests (request_id, account_id, caller_id, command)
                        VALUES ($1, $2, $3, $4::jsonb)""")
                .bind(0, requestId)
                .bind(1, command.accountId())
                .bind(2, command.callerId())
                .bind(3, Contract.toJson(command))
                .then()
                .then(db.sql("""
                                INSERT INTO dispatch.schedule
                                       (request_id, attempt_no, due_at, reason, command, created_at)
                                SELECT request_id, 1, $2, $3, command, now() - $4 * interval '1 second'
                                  FROM dispatch.requests WHERE request_id = $1""")
                        .bind(0, requestId)
                        .bind(1, FAR)
                        .bind(2, reason)
                        .bind(3, waited.toSeconds())
                        .then())
                .block(WAIT);
    }
}
