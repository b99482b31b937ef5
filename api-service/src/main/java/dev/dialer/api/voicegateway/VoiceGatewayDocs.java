package dev.dialer.api.voicegateway;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.Map;

/**
 * The Voice Gateway create-call body and answer as the OpenAPI document describes them. The endpoint reads the body
 * as a map ({@link CreateCall}), so any other field travels to the carrier: these records only document the known
 * ones.
 */
final class VoiceGatewayDocs {

    private VoiceGatewayDocs() {
    }

    @Schema(name = "VoiceGatewayCall", requiredProperties = {"from", "to"},
            description = "`application_sid` is required (a `call_hook` alone is refused); other fields are passed to the carrier")
    record Call(@JsonProperty("application_sid") @Schema(example = "app-1") String applicationSid,
                @JsonProperty("from") @Schema(description = "The calling number", example = "918068281234")
                String from,
                @JsonProperty("to") Target to,
                @JsonProperty("timeout") @Schema(description = "Ring timeout in seconds (60 when absent)",
                        example = "60") Integer timeout,
                @JsonProperty("timeLimit") @Schema(description = "Longest call in seconds") Integer timeLimit,
                @JsonProperty("tag") @Schema(description = "Metadata attached to the call") Map<String, Object> tag,
                @JsonProperty("headers") @Schema(description = "SIP headers to add") Map<String, String> headers,
                @JsonProperty("callerName") String callerName,
                @JsonProperty("fromHost") String fromHost,
                @JsonProperty("amd") @Schema(description = "Answering machine detection options")
                Map<String, Object> amd,
                @JsonProperty("notifyUrl") @Schema(description = "Receives every event of the call: a URL, or "
                        + "`{url, method}`", oneOf = {String.class, Hook.class}) Object notifyUrl,
                @JsonProperty("actionHook") @Schema(description = "Receives the call's final outcome: a URL, or "
                        + "`{url, method}`", oneOf = {String.class, Hook.class}) Object actionHook) {
    }

    @Schema(name = "VoiceGatewayTarget", requiredProperties = {"type", "number"})
    record Target(@JsonProperty("type") @Schema(allowableValues = {"phone", "sip", "user"}) String type,
                  @JsonProperty("number") @Schema(example = "919876543215") String number,
                  @JsonProperty("trunk") String trunk) {
    }

    @Schema(name = "VoiceGatewayHook", requiredProperties = "url")
    record Hook(@JsonProperty("url") @Schema(format = "uri", example = "https://crm.example.com/status") String url,
                @JsonProperty("method") @Schema(allowableValues = {"POST", "GET"}) String method) {
    }

    @Schema(name = "VoiceGatewayCallCreated", requiredProperties = {"sid", "callId", "callid"})
    record Created(@JsonProperty("sid") @Schema(description = "The call id its events carry") String sid,
                   @JsonProperty("callId") @Schema(description = "The same id (the v1 document's spelling)")
                   String callId,
                   @JsonProperty("callid") @Schema(description = "The same id (the current document's spelling)")
                   String callid) {
    }
}
