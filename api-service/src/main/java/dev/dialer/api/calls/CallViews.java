package dev.dialer.api.calls;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The JSON shapes of the read model's endpoints (snake_case, numbers in E.164, instants in ISO-8601 UTC). A name of
 * more than one word is spelled out with {@link JsonProperty}, not derived by a naming strategy: the OpenAPI
 * generator (swagger-core) reads Jackson 2 and cannot see Jackson 3's {@code @JsonNaming}, whereas both versions
 * read {@code com.fasterxml.jackson.annotation}, so the document names what the service writes.
 */
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
    record Call(String id, String status,
                @JsonProperty("final_status") @Schema(types = {"string", "null"}) String finalStatus,
                @Schema(types = {"string", "null"}) String campaign,
                @JsonProperty("foreign_id") @Schema(types = {"string", "null"}) String foreignId,
                @JsonProperty("caller_id") String callerId, String to,
                @JsonProperty("attempts_used") int attemptsUsed, @JsonProperty("max_attempts") int maxAttempts,
                @JsonProperty("next_attempt_at") @Schema(types = {"string", "null"}, format = "date-time")
                Instant nextAttemptAt,
                @Schema(types = {"object", "null"}, description = "Why the request ended without a carrier "
                        + "outcome; null otherwise") Error error,
                @JsonProperty("created_at") Instant createdAt, @JsonProperty("updated_at") Instant updatedAt,
                @JsonProperty("finished_at") @Schema(types = {"string", "null"}, format = "date-time")
                Instant finishedAt,
                @JsonProperty("cancel_rejected_at") @Schema(types = {"string", "null"}, format = "date-time")
                Instant cancelRejectedAt,
                @Schema(types = {"array", "null"}, description = "Oldest first; null in a list of calls")
                List<Attempt> attempts) {
    }

    /** Why a request ended without a carrier outcome. */
    record Error(String code, String message) {
    }

    /** One dial attempt. */
    record Attempt(int number, String status,
                   @JsonProperty("provider_status") @Schema(types = {"string", "null"}) String providerStatus,
                   @JsonProperty("provider_call_id") @Schema(types = {"string", "null"}) String providerCallId,
                   @JsonProperty("sip_status") @Schema(types = {"integer", "null"}) Integer sipStatus,
                   @JsonProperty("sip_reason") @Schema(types = {"string", "null"}) String sipReason,
                   @JsonProperty("answered_by") @Schema(types = {"string", "null"}) String answeredBy,
                   @JsonProperty("duration_seconds") @Schema(types = {"integer", "null"}) Integer durationSeconds,
                   @JsonProperty("started_at") @Schema(types = {"string", "null"}, format = "date-time")
                   Instant startedAt,
                   @JsonProperty("updated_at") Instant updatedAt,
                   @JsonProperty("ended_at") @Schema(types = {"string", "null"}, format = "date-time")
                   Instant endedAt) {
    }

    /** A page of calls, newest first; {@code next_cursor} is null on the last page. */
    record Page(List<Call> data,
                @JsonProperty("next_cursor") @Schema(types = {"string", "null"}) String nextCursor) {
    }

    /**
     * A campaign's progress: calls by status, how many are finished, and the share finished.
     *
     * @param state {@code active}, {@code paused} or {@code canceled}, from the latest control the API published
     */
    record Campaign(String name, String state, long total, long finished, double progress,
                    @JsonProperty("by_status") Map<String, Long> byStatus,
                    @JsonProperty("by_final_status") Map<String, Long> byFinalStatus) {
    }
}
