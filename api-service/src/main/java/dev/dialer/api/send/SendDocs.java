package dev.dialer.api.send;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.Map;

/**
 * The send request as the OpenAPI document describes it. The endpoint reads the body by hand
 * ({@link SendRequestParser}: JSON, a form, or JSON labelled as a form), so this record only documents it.
 */
@Schema(name = "SendRequest", requiredProperties = {"bridge", "to"},
        description = "`flow_id` or `audio` is required. Also accepted as a form, and as JSON sent with curl's default "
                + "form content type; `variables[Name]` flat keys are read as `variables`.")
record SendDocs(
        @JsonProperty("bridge") @Schema(description = "Caller ID the call is placed from, with country code",
                example = "918068281234") String bridge,
        @JsonProperty("to") @Schema(description = "One number, a comma-separated list, or a JSON array of numbers; "
                + "each recipient gets its own row and id", oneOf = {String.class, String[].class},
                example = "919876543215") Object to,
        @JsonProperty("flow_id") @Schema(description = "IVR journey to run when answered", example = "23")
        String flowId,
        @JsonProperty("audio") @Schema(description = "Sound file id, or an http(s) URL of an audio file",
                example = "39888925-718e-43bb-a8b1-d4a3a1b2c3d4") String audio,
        @JsonProperty("name") @Schema(description = "Campaign name", example = "obd_api_call") String name,
        @JsonProperty("interval") @Schema(description = "Retry interval in minutes; 0 (the default) means no "
                + "retry", allowableValues = {"0", "5", "15", "30", "45", "60"}, type = "integer") Integer interval,
        @JsonProperty("webhook_id") @Schema(description = "A webhook of the account that receives this request's "
                + "events") String webhookId,
        @JsonProperty("variables") @Schema(description = "Values for the flow's variables",
                example = "{\"Name\":\"YourName\",\"otp\":\"123456\"}") Map<String, String> variables,
        @JsonProperty("foreign_id") @Schema(description = "Your reference; de-duplicates per account")
        String foreignId,
        @JsonProperty("max_attempts") @Schema(description = "Attempts at most, with `interval` between them",
                example = "3") Integer maxAttempts,
        @JsonProperty("valid_until") @Schema(description = "Not dialled after this instant", format = "date-time")
        String validUntil,
        @JsonProperty("priority") @Schema(description = "Higher is dialled first among queued calls") Integer priority) {
}
