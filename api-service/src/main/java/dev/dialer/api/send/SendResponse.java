package dev.dialer.api.send;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.dialer.api.problem.FieldProblem;
import java.util.List;

/**
 * The answer to {@code outgoing/send} as its API document gives it, field for field: absent values are written as
 * {@code null}, never dropped (clients of the send API read {@code foreign_id}, {@code options} and {@code flow_id}
 * unconditionally). Numbers are written as digits without '+', as the send API does.
 *
 * <p>A recipient that was not queued keeps its row, in request order, with {@code status: "rejected"},
 * {@code id: null}, {@code credits: 0}, {@code mobile} as given and an {@code error} {@code {field, message}};
 * {@code error} appears only on such rows, so a fully accepted answer has exactly the documented fields. A recipient
 * whose {@code foreign_id} and number an earlier request already used has {@code status: "duplicate"}, the earlier
 * request's {@code id} and {@code credits: 0}, and is not queued again; so has a number the request listed before, with
 * the {@code id} its first listing got.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
@JsonPropertyOrder({"status", "message", "data"})
record SendResponse(@JsonProperty("status") String status,
                    @JsonProperty("message") String message,
                    @JsonProperty("data") List<Row> data) {

    static final String ALL_QUEUED = "Calls queued successfully";

    static SendResponse of(List<Row> rows) {
        long rejected = rows.stream().filter(row -> Row.REJECTED.equals(row.status())).count();
        long queued = rows.stream().filter(row -> Row.QUEUED.equals(row.status())).count();
        long duplicates = rows.size() - rejected - queued;
        String message = queued == rows.size() ? ALL_QUEUED
                : queued + " calls queued, " + rejected + " rejected"
                        + (duplicates == 0 ? "" : ", " + duplicates + " duplicate");
        return new SendResponse("OK", message, rows);
    }

    @JsonInclude(JsonInclude.Include.ALWAYS)
    @JsonPropertyOrder({"id", "channel", "caller_id", "mobile", "flow_id", "credits", "created_at", "foreign_id",
            "options", "status", "error"})
    record Row(@JsonProperty("id") String id,
               @JsonProperty("channel") String channel,
               @JsonProperty("caller_id") String callerId,
               @JsonProperty("mobile") String mobile,
               @JsonProperty("flow_id") String flowId,
               @JsonProperty("credits") int credits,
               @JsonProperty("created_at") String createdAt,
               @JsonProperty("foreign_id") String foreignId,
               @JsonProperty("options") Object options,
               @JsonProperty("status") String status,
               @JsonProperty("error") @JsonInclude(JsonInclude.Include.NON_NULL) FieldProblem error) {

        static final String CHANNEL = "outgoing";
        static final String QUEUED = "queued";
        static final String REJECTED = "rejected";
    }
}
