package dev.dialer.api.control;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;

/** The shapes of the control endpoints' answers, for the OpenAPI document ({@link ControlController} writes them). */
final class ControlDocs {

    private ControlDocs() {
    }

    /** A call's cancel, durable in Kafka. */
    @Schema(name = "CallCancelAccepted")
    record CallCancel(@JsonProperty("control_id") String controlId,
                      @JsonProperty("action") @Schema(allowableValues = "cancel") String action,
                      @JsonProperty("scope") @Schema(allowableValues = "request") String scope,
                      @JsonProperty("call_id") @Schema(description = "The call the cancel is for") String callId,
                      @JsonProperty("issued_at") @Schema(format = "date-time") String issuedAt) {
    }

    /** A campaign's cancel, pause or resume, durable in Kafka. */
    @Schema(name = "CampaignControlAccepted")
    record CampaignControl(@JsonProperty("control_id") String controlId,
                           @JsonProperty("action") @Schema(allowableValues = {"cancel", "pause", "resume"})
                           String action,
                           @JsonProperty("scope") @Schema(allowableValues = "campaign") String scope,
                           @JsonProperty("campaign") String campaign,
                           @JsonProperty("issued_at") @Schema(format = "date-time") String issuedAt) {
    }
}
