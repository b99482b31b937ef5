package dev.dialer.api.send;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** The seed's answer shape, nulls included ({@code foreign_id}, {@code options}, {@code flow_id}). */
@JsonInclude(JsonInclude.Include.ALWAYS)
record SendResponse(String status, String message, List<Row> data) {

    /**
     * One recipient. A recipient that could not be queued has {@code status: "rejected"} and an {@code error}; it is
     * not dialled and does not fail the others.
     */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    record Row(
            String id,
            String channel,
            @JsonProperty("caller_id") String callerId,
            String mobile,
            @JsonProperty("flow_id") String flowId,
            int credits,
            @JsonProperty("created_at") String createdAt,
            @JsonProperty("foreign_id") String foreignId,
            Object options,
            String status,
            @JsonInclude(JsonInclude.Include.NON_NULL) String error) {
    }
}
