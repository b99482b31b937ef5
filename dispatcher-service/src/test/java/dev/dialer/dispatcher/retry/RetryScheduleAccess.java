package dev.dialer.dispatcher.retry;

import dev.dialer.common.contract.CallCommand;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;

/** The retry scheduler's claims and deletes on {@code dispatch.schedule}, for tests outside its package. */
public final class RetryScheduleAccess {

    private final RetrySchedule schedule;
    private final Map<Claimed, ScheduledAttempt> claimed = new ConcurrentHashMap<>();

    public RetryScheduleAccess(DatabaseClient db) {
        this.schedule = new RetrySchedule(db);
    }

    /** Leases the rows due at {@code now}, as the scheduler does before it publishes them. */
    public Mono<List<Claimed>> claimDue(Instant now) {
        return schedule.claimDue(now, now, Duration.ofSeconds(30), 1000, null)
                .map(this::remember)
                .collectList();
    }

    /**
     * Leases the first row due after {@code after} and by {@code now}, as one claim of the scheduler's tick: rows due
     * before {@code after} (other tests') are left alone.
     */
    public Mono<List<Claimed>> claimFirstDueAfter(Instant after, Instant now) {
        CallCommand cursor = new CallCommand(1, "", "", "", "", null, null, null, 0, 1, 0, null, null, null, null,
                null, null, null, null, after);
        return schedule.claimDue(now, now, Duration.ofSeconds(30), 1,
                        new ScheduledAttempt(cursor, 0, after, "retry", after))
                .map(this::remember)
                .collectList();
    }

    private Claimed remember(ScheduledAttempt row) {
        Claimed claim = new Claimed(row.command().requestId(), row.attempt(), row.dueAt());
        claimed.put(claim, row);
        return claim;
    }

    /** The scheduler's delete once it has published a claimed row. */
    public Mono<Void> remove(Claimed row) {
        return schedule.removeAll(List.of(claimed.remove(row)));
    }

    /** A claimed row: its attempt and the due time it was claimed at. */
    public record Claimed(String requestId, int attempt, Instant dueAt) {
    }
}
