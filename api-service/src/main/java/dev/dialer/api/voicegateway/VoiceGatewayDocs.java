package dev.dialer.api.voicegateway;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.dialer.common.contract.CarrierOptions;
import dev.dialer.common.hook.HookUrls;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The Voice Gateway create-call body and answer as the OpenAPI document describes them. The endpoint reads the body
 * as a map ({@link CreateCall}), so any other field travels to the carrier: these records only document the known
 * ones, each in the form {@link CreateCall} checks.
 */
final class VoiceGatewayDocs {

    /** The body's schema. */
    static final String CALL = "VoiceGatewayCall";

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

    @Schema(name = CALL, requiredProperties = {"application_sid", "from", "to"},
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
                // Described in full by headersDescription(), which VoiceGatewayOpenApi writes into the document.
                @JsonProperty("headers") @Schema(description = "SIP headers to add") Map<String, String> headers,
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
                        + "`{url, method}`", oneOf = {String.class, Hook.class}) Object actionHook,
                @JsonProperty("speech_synthesis_vendor") @Schema(description = "The text-to-speech vendor, passed to "
                        + "the carrier (not blank)", minLength = 1, example = "microsoft") String speechSynthesisVendor,
                @JsonProperty("speech_synthesis_voice") @Schema(description = "The voice of the synthesized speech, "
                        + "passed to the carrier (not blank)", minLength = 1,
                        example = "de-DE-SeraphinaMultilingualNeural") String speechSynthesisVoice,
                @JsonProperty("speech_synthesis_language") @Schema(description = "The language of the synthesized "
                        + "speech, passed to the carrier (not blank)", minLength = 1, example = "en-US")
                String speechSynthesisLanguage,
                @JsonProperty("confirmHook") @Schema(description = "An application the carrier runs on the callee's "
                        + "end once the call is answered, before it is connected: an http(s) or ws(s) URL, or "
                        + "`{url, method, username, password}`, passed to the carrier",
                        oneOf = {String.class, CarrierHook.class}) Object confirmHook,
                @JsonProperty("dtmfCapture") @ArraySchema(arraySchema = @Schema(description = "DTMF sequences the "
                        + "carrier reports to `dtmfHook` when it detects one, passed to the carrier"),
                        schema = @Schema(pattern = "^" + CreateCall.DTMF_SEQUENCE + "$", example = "*2"))
                List<String> dtmfCapture,
                @JsonProperty("dtmfHook") @Schema(description = "Told by the carrier of each `dtmfCapture` sequence "
                        + "it detects: an http(s) or ws(s) URL, or `{url, method, username, password}`, passed to the "
                        + "carrier", oneOf = {String.class, CarrierHook.class}) Object dtmfHook,
                @JsonProperty("referHook") @Schema(description = "Called by the carrier when the far end sends a SIP "
                        + "REFER: an http(s) or ws(s) URL, or `{url, method, username, password}`, passed to the "
                        + "carrier", oneOf = {String.class, CarrierHook.class}) Object referHook,
                @JsonProperty("listen") @Schema(description = "A nested `listen` action (the call's audio streamed "
                        + "to a websocket server), passed to the carrier") Map<String, Object> listen,
                @JsonProperty("transcribe") @Schema(description = "A nested `transcribe` action, passed to the "
                        + "carrier") Map<String, Object> transcribe) {
    }

    /**
     * The {@code headers} property's description, which an annotation cannot hold: the names refused are read from
     * {@link CarrierOptions#RESERVED_SIP_HEADERS} (in any case, as {@link CarrierOptions#isAllowedSipHeaderName}
     * compares them) and the caller headers from {@link CarrierOptions#CALLER_HEADERS}, so that the document names
     * every one the endpoint refuses or holds to the account's caller IDs.
     */
    static String headersDescription() {
        List<String> reserved = CarrierOptions.RESERVED_SIP_HEADERS.stream()
                .filter(name -> !name.startsWith(CarrierOptions.DIALER_SIP_HEADERS)).sorted().toList();
        return "SIP headers to add: each name a token, and none the dialer sets itself or cannot honour (in any case: "
                + codes(reserved.stream().filter(name -> name.length() > 1).toList()) + ", the compact forms "
                + codes(reserved.stream().filter(name -> name.length() == 1).toList()) + " and `"
                + CarrierOptions.DIALER_SIP_HEADERS + "*`); each value a string without CR or LF, at most "
                + String.format(Locale.ROOT, "%,d", CarrierOptions.MAX_SIP_HEADER_VALUE) + " characters. Any other "
                + "entry is a 400 naming `headers.<name>`. A header that presents a caller ("
                + codes(CarrierOptions.CALLER_HEADERS.stream().sorted().toList()) + ") with a number that is not "
                + "one of the account's `allowed_caller_ids` is a 403 naming it";
    }

    /** {@code names} as code, in the order given: {@code `a`, `b`}. */
    private static String codes(Collection<String> names) {
        return names.stream().map(name -> "`" + name + "`").collect(Collectors.joining(", "));
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

    @Schema(name = "VoiceGatewayCarrierHook", requiredProperties = "url", description = "A hook the carrier "
            + "calls itself, passed to it as given: the dialer delivers nothing to it, so it may be a WebSocket and "
            + "carry credentials")
    record CarrierHook(@JsonProperty("url") @Schema(description = "An http(s):// or ws(s):// URL", format = "uri",
                               maxLength = HookUrls.MAX_URL, example = "https://app.example.com/confirm") String url,
                       @JsonProperty("method") @Schema(description = "POST when absent",
                               allowableValues = {"POST", "GET"}) String method,
                       @JsonProperty("username") @Schema(description = "For the carrier's HTTP basic authentication "
                               + "to the hook") String username,
                       @JsonProperty("password") @Schema(description = "For the carrier's HTTP basic authentication "
                               + "to the hook; never returned", accessMode = Schema.AccessMode.WRITE_ONLY)
                       String password) {
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
