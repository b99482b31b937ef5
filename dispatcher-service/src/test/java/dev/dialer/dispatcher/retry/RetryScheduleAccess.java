package dev.dialer.dispatcher.retry;

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
        return schedule.dueAccounts(now, "", 1000)
                .flatMapMany(accounts -> schedule.claimDue(now, now, Duration.ofSeconds(30), accounts.stream()
                        .map(account -> new RetrySchedule.Share(account, 1000)).toList()))
                .map(this::remember)
                .collectList();
    }

    /**
     * Leases the first row of {@code accountId} due by {@code now}, as one account's share of a claim of the
     * scheduler's tick: other accounts' rows (other tests') are left alone.
     */
    public Mono<List<Claimed>> claimFirstOf(String accountId, Instant now) {
        return schedule.claimDue(now, now, Duration.ofSeconds(30), List.of(new RetrySchedule.Share(accountId, 1)))
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
