package dev.dialer.api.openapi;

/**
 * Names the controllers' OpenAPI annotations share: the reusable problem responses ({@link OpenApiConfiguration}
 * defines them) and the request examples taken from the API documents the dialects follow.
 */
public final class ApiDocs {

    /** The one security scheme: {@code Authorization: Bearer <API key>}. */
    public static final String BEARER = "bearer";

    private static final String RESPONSES = "#/components/responses/";
    public static final String BAD_REQUEST = RESPONSES + "BadRequest";
    public static final String UNAUTHORIZED = RESPONSES + "Unauthorized";
    public static final String NOT_FOUND = RESPONSES + "NotFound";
    public static final String CONFLICT = RESPONSES + "Conflict";
    public static final String FORBIDDEN = RESPONSES + "Forbidden";
    public static final String CALL_ALREADY_FINAL = RESPONSES + "CallAlreadyFinal";
    public static final String CAMPAIGN_CANCELED = RESPONSES + "CampaignCanceled";
    public static final String LIMIT_REACHED = RESPONSES + "LimitReached";
    public static final String UNAVAILABLE = RESPONSES + "Unavailable";
    public static final String TOO_MANY_REQUESTS = RESPONSES + "TooManyRequests";

    /**
     * A 413 is declared by each operation, since each endpoint has its own limit: its content is a {@link #PROBLEM}
     * as {@link #PROBLEM_JSON}, and its example {@code TOO_LARGE_EXAMPLE + <limit in bytes> + BYTES}.
     */
    public static final String PROBLEM_JSON = "application/problem+json";
    public static final String PROBLEM = "#/components/schemas/Problem";
    public static final String FIELD_PROBLEM = "#/components/schemas/FieldProblem";
    public static final String TOO_LARGE_EXAMPLE = "{\"type\":\"https://dialer.dev/problems/payload-too-large\","
            + "\"title\":\"Content too large\",\"status\":413,\"detail\":\"The body is larger than ";
    public static final String BYTES = " bytes.\"}";

    /** The {@code outgoing/send} document's first curl example: a sound file id. */
    public static final String SEND_WITH_AUDIO_ID = """
            {"bridge":"918068281234","to":"918867135123","audio":"39888925-718e-43bb-a8b1-d4a3a1b2c3d4",\
            "name":"obd_api_call"}""";
    /** The {@code outgoing/send} document's IVR journey example. */
    public static final String SEND_WITH_FLOW = """
            {"bridge":"918068281234","to":"918867135123","flow_id":"23","name":"obd_api_call"}""";
    /**
     * The {@code outgoing/send} document's IVR journey with variables, written with its flat {@code variables[Name]}
     * keys.
     */
    public static final String SEND_WITH_VARIABLES = """
            {"bridge":"918068281234","to":"918867135123","flow_id":"24","variables[Name]":"YourName",\
            "variables[otp]":"123456"}""";
    /**
     * The {@code outgoing/send} document's IVR journey with variables, for the form body: written as an object, as an
     * OpenAPI example of a form is; the form's {@code deepObject} encoding of {@code variables} sends each variable
     * as its own {@code variables[Name]} field.
     */
    public static final String SEND_FORM = """
            {"bridge":"918068281234","to":"918867135123","flow_id":"24",\
            "variables":{"Name":"YourName","otp":"123456"}}""";
    /** The {@code outgoing/send} document's custom audio file location. */
    public static final String SEND_WITH_AUDIO_URL = """
            {"bridge":"918068281234","to":"918867135123","audio":"http://youraudiofilelocation.mp3",\
            "name":"obd_api_call"}""";
    /** A bulk request: one caller ID, several recipients. */
    public static final String SEND_BULK = """
            {"bridge":"918068281234","to":["919876543215","919876543216","919876543217"],"flow_id":"23",\
            "name":"diwali_offer","interval":15,"foreign_id":"crm-4711"}""";
    /** The {@code outgoing/send} document's example response. */
    public static final String SEND_RESPONSE = """
            {"status":"OK","message":"Calls queued successfully","data":[{"id":"3b69aca9-3b55-4e2d-bfe0-02b910dbe156",\
            "channel":"outgoing","caller_id":"918919521234","mobile":"917619361234","flow_id":"351","credits":1,\
            "created_at":"2024-07-10T06:09:43.054164Z","foreign_id":null,"options":null,"status":"queued"}]}""";
    /** The Voice Gateway Calls API document's request. */
    public static final String VOICE_GATEWAY_CALL = """
            {"application_sid":"app-1","from":"918068281234","to":{"type":"phone","number":"919876543215"}}""";
    /** The same call with hooks and carrier options. */
    public static final String VOICE_GATEWAY_CALL_WITH_HOOKS = """
            {"application_sid":"app-1","from":"918068281234","callerName":"Acme",\
            "to":{"type":"phone","number":"919876543215"},"timeout":30,"timeLimit":600,"tag":{"crm_id":"4711"},\
            "notifyUrl":{"url":"https://crm.example.com/status","method":"POST"},\
            "actionHook":"https://crm.example.com/done","amd":{"actionHook":"https://crm.example.com/amd"}}""";
    public static final String VOICE_GATEWAY_RESPONSE = """
            {"sid":"9b2f4c1e-6a3d-4e8b-b1f0-2c7d5e9a8b61","callId":"9b2f4c1e-6a3d-4e8b-b1f0-2c7d5e9a8b61",\
            "callid":"9b2f4c1e-6a3d-4e8b-b1f0-2c7d5e9a8b61"}""";

    private ApiDocs() {
    }
}
