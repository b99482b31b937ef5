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

    /** A call to a SIP URI. */
    static final String SIP_CALL = """
            {"application_sid":"app-1","from":"918068281234",\
            "to":{"type":"sip","sipUri":"sip:support@pbx.example.com","auth":{"username":"dialer","password":"s3cret"}}}\
            """;
    /** A call to a user registered with the gateway. */
    static final String USER_CALL = """
            {"application_sid":"app-1","from":"918068281234","to":{"type":"user","name":"alice"}}""";

    private VoiceGatewayDocs() {
    }

    @Schema(name = "VoiceGatewayCall", requiredProperties = {"application_sid", "from", "to"},
            description = "A `call_hook` alone, without `application_sid`, is refused; other fields are passed to "
                    + "the carrier")
    record Call(@JsonProperty("application_sid") @Schema(example = "app-1", minLength = 1,
                        maxLength = CreateCall.MAX_APPLICATION_SID) String applicationSid,
                @JsonProperty("from") @Schema(description = "The calling number", example = "918068281234")
                String from,
                @JsonProperty("to") Target to,
                @JsonProperty("timeout") @Schema(description = "Ring timeout in whole seconds (60 when absent)",
                        minimum = "1", maximum = "" + CreateCall.MAX_SECONDS, example = "60") Integer timeout,
                @JsonProperty("timeLimit") @Schema(description = "Longest call in whole seconds", minimum = "1",
                        maximum = "" + CreateCall.MAX_SECONDS) Integer timeLimit,
                @JsonProperty("tag") @Schema(description = "Metadata attached to the call. The keys `request_id`, "
                        + "`attempt`, `account_id`, `caller_id`, `flow_id`, `carrier`, `sent_at`, `dial` and `seal` "
                        + "are the dialer's: giving one is a 400 naming `tag.<key>`") Map<String, Object> tag,
                @JsonProperty("headers") @Schema(description = "SIP headers to add: each name a token, and none the "
                        + "SIP dialog or the dialer sets itself (`Via`, `From`, `To`, `Call-ID`, `CSeq`, `Contact`, "
                        + "`Max-Forwards`, `Content-Type`, `Content-Length`, `Route`, `Record-Route`, "
                        + "`Authorization`, `Proxy-Authorization`, their compact forms and `X-Dialer-*`); each value "
                        + "a string without CR or LF, at most 2,048 characters. Any other entry is a 400 naming "
                        + "`headers.<name>`")
                Map<String, String> headers,
                @JsonProperty("callerName") @Schema(description = "The `From`'s display name: no control "
                        + "characters, `\"` or `\\`", maxLength = CreateCall.MAX_CALLER_NAME, example = "Acme")
                String callerName,
                @JsonProperty("fromHost") @Schema(description = "The `From` URI's host: a host name or an IP address "
                        + "(IPv6 in brackets)", example = "sip.example.com") String fromHost,
                @JsonProperty("amd") @Schema(description = "Answering machine detection options. The carrier gets "
                        + "the dialer's own `actionHook`; yours (a URL, or `{url, method}`, checked as `notifyUrl` "
                        + "is: a bad one is a 400 naming `amd.actionHook`) receives each detection as the dialer's "
                        + "`call.status` event carrying `answered_by`, signed like `notifyUrl`. The call's other "
                        + "events carry `answered_by` too") Map<String, Object> amd,
                @JsonProperty("notifyUrl") @Schema(description = "Receives every event of the call: a URL, or "
                        + "`{url, method}`", oneOf = {String.class, Hook.class}) Object notifyUrl,
                @JsonProperty("call_status_hook") @Schema(description = "jambonz's name for `notifyUrl`, taken as "
                        + "that: give one of the two", oneOf = {String.class, Hook.class}) Object callStatusHook,
                @JsonProperty("actionHook") @Schema(description = "Receives the call's final outcome: a URL, or "
                        + "`{url, method}`", oneOf = {String.class, Hook.class}) Object actionHook) {
    }

    @Schema(name = "VoiceGatewayTarget", requiredProperties = "type", description = "The destination: a `phone` "
            + "(`number`, optional `trunk`), a `sip` URI (`sipUri`, optional `auth`) or a registered `user` (`name`). "
            + "A sip or user target's calling window is applied in the time zones of the caller ID's number "
            + "(strictest when several), or of the account's default region when the caller ID is of another "
            + "country; DNC never blocks one and the per-callee cap counts it as written. The target "
            + "object travels to the carrier whole")
    record Target(@JsonProperty("type") @Schema(allowableValues = {"phone", "sip", "user"}) String type,
                  @JsonProperty("number") @Schema(description = "For `phone` (required): the callee's number",
                          example = "919876543215") String number,
                  @JsonProperty("trunk") @Schema(description = "The carrier route to use, by name (not blank)")
                  String trunk,
                  @JsonProperty("sipUri") @Schema(description = "For `sip` (required): a plain `sip:` or `sips:` "
                          + "URI with a host and optional `;` parameters, in RFC 3261's characters: no whitespace, "
                          + "control or non-ASCII characters, no `<`, `>`, `\"` or `,`, no `?` headers and no password "
                          + "(`sip:alice:secret@host`; use `auth`)", maxLength = 1024, example = "sip:alice@pbx.example.com")
                  String sipUri,
                  @JsonProperty("auth") @Schema(description = "For `sip`: credentials for the far end's digest "
                          + "challenge, passed to the gateway as given") TargetAuth auth,
                  @JsonProperty("name") @Schema(description = "For `user` (required): the registered user, 1 to 128 "
                          + "visible ASCII characters", minLength = 1, maxLength = 128, example = "alice")
                  String name) {
    }

    @Schema(name = "VoiceGatewayTargetAuth", requiredProperties = {"username", "password"})
    record TargetAuth(@JsonProperty("username") @Schema(description = "No control characters, `\"` or `\\`")
                      String username,
                      @JsonProperty("password") @Schema(description = "No control characters; never returned",
                              accessMode = Schema.AccessMode.WRITE_ONLY) String password) {
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
