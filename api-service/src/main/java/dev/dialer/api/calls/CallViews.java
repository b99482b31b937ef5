package dev.dialer.api.calls;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.annotation.JsonNaming;

/** The JSON shapes of the read model's endpoints (snake_case, numbers in E.164, instants in ISO-8601 UTC). */
final class CallViews {

    private CallViews() {
    }

    /**
     * One call. {@code status} is the latest attempt status ({@code queued}, {@code initiated}, {@code ringing},
     * {@code in-progress}, {@code completed}, {@code busy}, …), {@code deferred} while it waits, or once finished its
     * final status ({@code answered}, {@code exhausted}, {@code failed}, {@code canceled}, {@code blocked},
     * {@code expired}), which {@code final_status} also holds. {@code cancel_rejected_at} is when a cancel of the call
     * first came too late (it had ended, or it was answered and left to talk); null when none did.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Call(String id, String status, String finalStatus, String campaign, String foreignId, String callerId,
                String to, int attemptsUsed, int maxAttempts, Instant nextAttemptAt, Error error, Instant createdAt,
                Instant updatedAt, Instant finishedAt, Instant cancelRejectedAt, List<Attempt> attempts) {
    }

    /** Why a request ended without a carrier outcome. */
    record Error(String code, String message) {
    }

    /** One dial attempt. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Attempt(int number, String status, String providerStatus, String providerCallId, Integer sipStatus,
                   String sipReason, String answeredBy, Integer durationSeconds, Instant startedAt,
                   Instant updatedAt, Instant endedAt) {
    }

    /** A page of calls, newest first; {@code next_cursor} is null on the last page. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Page(List<Call> data, String nextCursor) {
    }

    /**
     * A campaign's progress: calls by status, how many are finished, and the share finished.
     *
     * @param state {@code active}, {@code paused} or {@code canceled}, from the latest control the API published
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    record Campaign(String name, String state, long total, long finished, double progress,
                    Map<String, Long> byStatus, Map<String, Long> byFinalStatus) {
    }
}
