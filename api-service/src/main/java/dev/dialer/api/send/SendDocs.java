package dev.dialer.api.send;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.StringToClassMapItem;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;
import java.util.Map;

/**
 * The send request as the OpenAPI document describes it. The endpoint reads the body by hand
 * ({@link SendRequestParser}: JSON, a form, or JSON labelled as a form), so this record only documents it.
 */
@Schema(name = "SendRequest", requiredProperties = {"bridge", "to"},
        patternProperties = @StringToClassMapItem(key = "^variables\\[[^\\]]+\\]$", value = String.class),
        description = "`flow_id` or `audio` is required. Also accepted as a form, and as JSON sent with curl's default "
                + "form content type; `variables[Name]` flat keys are read as `variables` (in a form, `variables` is "
                + "written so: `deepObject`). `{number, foreign_id}` recipients are JSON only. A field given twice "
                + "(a JSON member, a variable given both ways, a form field the endpoint reads other than `to`, which "
                + "repeats to list recipients) is a 400 naming it, never the last one taken.")
record SendDocs(
        @JsonProperty("bridge") @Schema(description = "Caller ID the call is placed from, with country code",
                maxLength = SendRequestParser.MAX_NUMBER, example = "918068281234") String bridge,
        @JsonProperty("to") @Schema(description = "One number, a comma-separated list, or a JSON array whose items "
                + "are numbers or `{number, foreign_id}` objects (a recipient's own reference); each recipient gets "
                + "its own row; a number listed again is called once and its row carries the first listing's id",
                oneOf = {String.class, ToItem[].class}) Object to,
        @JsonProperty("flow_id") @Schema(description = "IVR journey to run when answered", example = "23",
                maxLength = SendRequestParser.MAX_FLOW_ID) String flowId,
        @JsonProperty("audio") @Schema(description = "Sound file id, or an http(s) URL of an audio file",
                example = "39888925-718e-43bb-a8b1-d4a3a1b2c3d4", maxLength = SendRequestParser.MAX_AUDIO)
        String audio,
        @JsonProperty("name") @Schema(description = "Campaign name", example = "obd_api_call",
                maxLength = SendRequestParser.MAX_NAME) String name,
        @JsonProperty("interval") @Schema(description = "Retry interval in minutes: 0, 5, 15, 30, 45 or 60; 0 (the "
                + "default) means no retry", example = "15", allowableValues = {"0", "5", "15", "30", "45", "60"})
        Integer interval,
        @JsonProperty("webhook_id") @Schema(description = "A webhook of the account that receives this request's "
                + "events", maxLength = SendRequestParser.MAX_WEBHOOK_ID) String webhookId,
        @JsonProperty("variables") @Schema(description = "Values for the flow's variables; an empty array (`[]`, "
                + "as PHP's json_encode writes an empty one) is none; at most "
                + SendRequestParser.MAX_VARIABLES_BYTES + " bytes together as JSON",
                example = "{\"Name\":\"YourName\",\"otp\":\"123456\"}") Map<String, String> variables,
        @JsonProperty("foreign_id") @Schema(description = "Your reference; de-duplicates per account and number",
                maxLength = SendRequestParser.MAX_FOREIGN_ID) String foreignId,
        @JsonProperty("max_attempts") @Schema(description = "Attempts at most, with `interval` between them (3 when "
                + "absent)", example = "3", minimum = "1", maximum = "" + SendRequestParser.MAX_MAX_ATTEMPTS)
        Integer maxAttempts,
        @JsonProperty("valid_until") @Schema(description = "Not dialled after this instant: in the future, and no "
                + "later than 9999-12-31T23:59:59.999999999Z (RFC 3339 years have four digits)", format = "date-time")
        String validUntil,
        @JsonProperty("priority") @Schema(description = "Higher is dialled first among queued calls", minimum = "0",
                maximum = "" + SendRequestParser.MAX_PRIORITY) Integer priority) {

    /** An item of a {@code to} array: a number, or a recipient with a reference of its own. */
    @Schema(name = "SendToItem", oneOf = {String.class, Recipient.class})
    interface ToItem {
    }

    /** A recipient with a reference of its own. */
    @Schema(name = "SendRecipient", requiredProperties = "number")
    record Recipient(@JsonProperty("number") @Schema(example = "919876543215") String number,
                     @JsonProperty("foreign_id") @Schema(description = "This recipient's reference; de-duplicates "
                             + "per account and number", maxLength = SendRequestParser.MAX_FOREIGN_ID)
                     String foreignId) {
    }

    /** The {@code outgoing/send} answer as documented ({@link SendResponse} writes it). */
    @Schema(name = "SendResponse", requiredProperties = {"status", "message", "data"})
    record Answer(@JsonProperty("status") @Schema(example = "OK") String status,
                  @JsonProperty("message") @Schema(example = "Calls queued successfully") String message,
                  @JsonProperty("data") List<Row> data) {
    }

    /** One recipient's row. */
    @Schema(name = "SendResponseRow", requiredProperties = {"id", "channel", "caller_id", "mobile", "flow_id",
            "credits", "created_at", "foreign_id", "options", "status"})
    record Row(@JsonProperty("id") @Schema(types = {"string", "null"}, description = "The call id; null when "
                       + "rejected; on a duplicate, the id of the earlier call with the same `foreign_id` and number, "
                       + "or of the number's first listing in this request")
               String id,
               @JsonProperty("channel") @Schema(example = "outgoing") String channel,
               @JsonProperty("caller_id") @Schema(example = "918068281234") String callerId,
               @JsonProperty("mobile") @Schema(example = "919876543215") String mobile,
               @JsonProperty("flow_id") @Schema(types = {"string", "null"}) String flowId,
               @JsonProperty("credits") @Schema(example = "1") int credits,
               @JsonProperty("created_at") @Schema(format = "date-time", description = "UTC, always with six "
                       + "fraction digits", example = "2024-07-10T06:09:43.054164Z") String createdAt,
               @JsonProperty("foreign_id") @Schema(types = {"string", "null"}) String foreignId,
               @JsonProperty("options") @Schema(types = {"object", "null"}) Map<String, Object> options,
               @JsonProperty("status") @Schema(allowableValues = {"queued", "rejected", "duplicate"},
                       description = "`duplicate`: an earlier request has this `foreign_id` and number, or this "
                               + "request listed the number before; nothing is queued for it (`credits` 0)")
               String status,
               @JsonProperty("error") @Schema(description = "Only on a rejected row: the recipient's field and "
                       + "why") dev.dialer.api.problem.FieldProblem error) {
    }
}
