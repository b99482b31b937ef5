package dev.dialer.api.voicegateway;

import dev.dialer.api.problem.Characters;
import dev.dialer.api.problem.FieldProblem;
import dev.dialer.api.problem.NulCharacters;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.contract.CarrierOptions;
import dev.dialer.common.contract.Destination;
import dev.dialer.common.contract.Hook;
import dev.dialer.common.hook.HookUrls;
import dev.dialer.common.hook.PlainHttpPolicy;
import dev.dialer.common.phone.PhoneNumbers;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A Voice Gateway (jambonz) {@code POST /v1/Accounts/{sid}/Calls} body, validated. Every field the dispatcher does
 * not map itself ({@code timeout}, {@code timeLimit}, {@code tag}, {@code headers}, {@code amd}, {@code callerName},
 * {@code fromHost}, {@code call_hook}, {@code speech_synthesis_*}, …) travels to the carrier unchanged in
 * {@code carrierOptions}: none is dropped. So a value the dispatcher would not pass on is refused, naming it: a
 * {@code tag} or {@code amd} that is no object, a reserved {@code tag} key, a {@code headers} entry the SIP trunk
 * carrier would leave out, a {@code to.trunk} that is no name, a {@code callerName} it would shorten or strip, a
 * {@code fromHost} it would replace with its own. No string in it, a name or a value, may hold a NUL character.
 *
 * <p>{@code to} is a {@code phone} ({@code number}, optional {@code trunk}), a {@code sip} target ({@code sipUri},
 * optional {@code auth}) or a registered {@code user} ({@code name}). A sip or user target also travels whole, as
 * {@code carrierOptions.to}, so the carrier gets every field the client gave (ADR 0072); so does a phone target that
 * holds more than its {@code number} and {@code trunk}.
 *
 * @param callerId       {@code from}, E.164
 * @param to             the destination: {@code to.number} in E.164, the {@code sip:}/{@code sips:} URI, or
 *                       {@code user:<name>}
 * @param applicationSid the application to run on answer (required, as the API document says)
 * @param notifyUrl      status events go here too
 * @param actionHook     the final outcome goes here too
 * @param amdHook        {@code amd.actionHook}: each answering-machine detection goes here too. The carrier gets the
 *                       dispatcher's own hook in its place (ADR 0034), so the dialer calls this one itself, checked as
 *                       the other hooks are; {@code amd} still travels whole in {@code carrierOptions}
 * @param carrierOptions the rest of the body, for the carrier
 */
record CreateCall(String callerId, String to, String applicationSid, Hook notifyUrl, Hook actionHook, Hook amdHook,
                  Map<String, Object> carrierOptions) {

    /** The members of a phone target that the command carries itself ({@code to}, {@code carrierOptions.trunk}). */
    private static final Set<String> PHONE_TARGET = Set.of("type", "number", "trunk");
    private static final Set<String> MAPPED = Set.of("from", "to", "application_sid", "notifyUrl", "call_status_hook",
            "actionHook");
    static final int DEFAULT_TIMEOUT_SECONDS = 60;
    /** A day: the longest ring or call a value here may ask for. */
    static final long MAX_SECONDS = CarrierOptions.MAX_SECONDS;
    /** The longest application sid the call command carries ({@code flow_id}). */
    static final int MAX_APPLICATION_SID = 128;
    /** The longest {@code callerName} the SIP trunk carrier keeps whole as the {@code From}'s display name. */
    static final int MAX_CALLER_NAME = CarrierOptions.MAX_DISPLAY_NAME;

    /** @param plainHttp where a hook's URL may use plain http */
    static CreateCall from(Map<String, Object> body, String defaultRegion, PlainHttpPolicy plainHttp) {
        List<FieldProblem> errors = new ArrayList<>();
        // Every field travels in the command, so a NUL anywhere would reach the dispatcher's database.
        NulCharacters.check("", body, errors);
        if (!errors.isEmpty()) {
            throw Problems.validation(errors);
        }
        String callerId = number(body.get("from"), "from", defaultRegion, errors);
        String to = callee(body.get("to"), defaultRegion, errors);
        Object application = body.get("application_sid");
        if (application != null && !(application instanceof String)) {
            errors.add(new FieldProblem("application_sid", "must be a string"));
        } else if (!(application instanceof String sid) || sid.isBlank()) {
            // The dispatcher runs an application by its sid; a call_hook alone names none it could run.
            errors.add(new FieldProblem("application_sid", body.get("call_hook") != null
                    ? "is required: call_hook alone is not supported, create an application for it"
                    : "is required"));
        } else if (Characters.moreThan(sid, MAX_APPLICATION_SID)) {
            errors.add(new FieldProblem("application_sid", "must be at most " + MAX_APPLICATION_SID + " characters"));
        }
        Hook notifyUrl = statusHook(body, plainHttp, errors);
        Hook actionHook = hook(body.get("actionHook"), "actionHook", plainHttp, errors);
        Long timeout = seconds(body, "timeout", errors);
        Long timeLimit = seconds(body, "timeLimit", errors);
        tag(body.get("tag"), errors);
        Hook amdHook = null;
        if (body.get("amd") instanceof Map<?, ?> amd) {
            amdHook = hook(amd.get("actionHook"), "amd.actionHook", plainHttp, errors);
        } else if (body.get("amd") != null) {
            errors.add(new FieldProblem("amd", "must be an object of answering-machine detection options"));
        }
        headers(body.get("headers"), errors);
        if (body.get("to") instanceof Map<?, ?> target) {
            trunk(target.get("trunk"), errors);
        }
        callerName(body.get("callerName"), errors);
        fromHost(body.get("fromHost"), errors);
        carrierFields(body, errors);
        if (!errors.isEmpty()) {
            throw Problems.validation(errors);
        }
        Map<String, Object> options = new LinkedHashMap<>();
        body.forEach((name, value) -> {
            // null is "not given", as the checks above read it: passed on, it would take a default's place.
            if (!MAPPED.contains(name) && value != null) {
                options.put(name, value);
            }
        });
        options.put("timeout", timeout != null ? timeout : DEFAULT_TIMEOUT_SECONDS);
        if (timeLimit != null) {
            options.put("timeLimit", timeLimit);
        }
        if (body.get("to") instanceof Map<?, ?> target) {
            if (target.get("trunk") instanceof String trunk) {
                options.put("trunk", trunk);
            }
            if (!"phone".equals(target.get("type")) || !PHONE_TARGET.containsAll(target.keySet())) {
                // The target as the client wrote it (auth, and whatever else the gateway reads), for the carrier; a
                // phone target only when it holds more than the command carries already.
                options.put("to", target);
            }
        }
        return new CreateCall(callerId, to, application instanceof String sid ? sid : null, notifyUrl, actionHook,
                amdHook, options);
    }

    /** Hooks of the v1 seed's advanced configuration that the carrier calls itself; the dialer passes them on. */
    static final List<String> CARRIER_HOOKS = List.of("confirmHook", "dtmfHook", "referHook");
    /** The seed's speech settings: strings, passed on. */
    static final List<String> CARRIER_STRINGS = List.of("speech_synthesis_vendor", "speech_synthesis_voice",
            "speech_synthesis_language");
    /** Nested actions of the v1 seed, passed on: objects. */
    static final List<String> CARRIER_ACTIONS = List.of("listen", "transcribe");
    /** The v1 document's DTMF sequences to report, passed on: an array of {@link #DTMF_SEQUENCE}s. */
    static final String DTMF_CAPTURE = "dtmfCapture";
    /** One sequence of {@link #DTMF_CAPTURE}: DTMF digits. */
    static final String DTMF_SEQUENCE = "[0-9*#A-Da-d]+";
    private static final Pattern DTMF = Pattern.compile(DTMF_SEQUENCE);
    /** A ws(s) URL's scheme, checked as http(s) would be. */
    private static final Pattern WEBSOCKET = Pattern.compile("^(?i)ws(?=s?://)");

    /**
     * The fields the dialer passes on to the carrier without reading them are checked for their type as the seeds
     * give it, so that a client learns of a mistake from a 400 naming the field, not from a call the carrier refuses
     * later: the carrier's hooks ({@link #carrierHook}), {@code dtmfCapture} (an array of DTMF sequences), the speech
     * settings (strings) and the nested {@code listen} and {@code transcribe} actions (objects).
     */
    private static void carrierFields(Map<String, Object> body, List<FieldProblem> errors) {
        for (String field : CARRIER_HOOKS) {
            carrierHook(body.get(field), field, errors);
        }
        for (String field : CARRIER_STRINGS) {
            Object value = body.get(field);
            if (value != null && !(value instanceof String text && !text.isBlank())) {
                errors.add(new FieldProblem(field, "must be a non-empty string"));
            }
        }
        for (String field : CARRIER_ACTIONS) {
            if (body.get(field) != null && !(body.get(field) instanceof Map)) {
                errors.add(new FieldProblem(field, "must be an object (a nested " + field + " action)"));
            }
        }
        Object capture = body.get(DTMF_CAPTURE);
        if (capture != null && !(capture instanceof List)) {
            errors.add(new FieldProblem(DTMF_CAPTURE, "must be an array of DTMF sequences"));
        } else if (capture instanceof List<?> sequences) {
            for (int i = 0; i < sequences.size(); i++) {
                if (!(sequences.get(i) instanceof String digits) || !DTMF.matcher(digits).matches()) {
                    errors.add(new FieldProblem(DTMF_CAPTURE + "[" + i + "]",
                            "must be a sequence of DTMF digits (0-9, *, #, A-D)"));
                }
            }
        }
    }

    /**
     * A hook the carrier calls itself: a URL it can call (http(s), or ws(s) as jambonz takes for an application's
     * hooks), or {@code {url, method, username, password}}. The dialer delivers nothing to it, so its plain-http
     * policy does not apply.
     */
    private static void carrierHook(Object value, String field, List<FieldProblem> errors) {
        if (value == null) {
            return;
        }
        String url;
        String urlField = field;
        if (value instanceof String text) {
            url = text;
        } else if (value instanceof Map<?, ?> object) {
            url = object.get("url") instanceof String text ? text : null;
            urlField = field + ".url";
            Object method = object.get("method");
            if (method != null && !(method instanceof String verb && (verb.isBlank() || verb.equalsIgnoreCase("GET")
                    || verb.equalsIgnoreCase("POST")))) {
                errors.add(new FieldProblem(field + ".method", "must be GET or POST"));
            }
            for (String credential : List.of("username", "password")) {
                if (object.get(credential) != null && !(object.get(credential) instanceof String)) {
                    errors.add(new FieldProblem(field + "." + credential, "must be a string"));
                }
            }
        } else {
            errors.add(new FieldProblem(field, "must be a URL or {url, method}"));
            return;
        }
        if (url == null) {
            errors.add(new FieldProblem(urlField, "is required"));
            return;
        }
        // ws(s) is checked as http(s) would be: the same URL but for its scheme.
        String problem = HookUrls.problem(WEBSOCKET.matcher(url).replaceFirst("http"));
        if (problem != null) {
            errors.add(new FieldProblem(urlField, problem.replace("http:// or https://",
                    "http(s):// or ws(s)://")));
        }
    }

    /**
     * The carrier gets the client's {@code tag} only as an object, and with the dispatcher's own values over the
     * reserved keys: anything else would never reach it, so it is refused rather than dropped.
     */
    private static void tag(Object value, List<FieldProblem> errors) {
        if (value == null) {
            return;
        }
        if (!(value instanceof Map<?, ?> tag)) {
            errors.add(new FieldProblem("tag", "must be an object of metadata"));
            return;
        }
        for (Object key : tag.keySet()) {
            if (CarrierOptions.RESERVED_TAG_KEYS.contains(String.valueOf(key))) {
                errors.add(new FieldProblem("tag." + key, "is reserved: the dialer sets it to correlate the call"));
            }
        }
    }

    /**
     * Each header as the SIP trunk carrier would add it to the INVITE, which skips one that is not a token, is one of
     * {@link CarrierOptions#RESERVED_SIP_HEADERS}, or whose value would end the header line; a value is text (the
     * gateway's API takes strings) of at most {@link CarrierOptions#MAX_SIP_HEADER_VALUE} characters.
     */
    private static void headers(Object value, List<FieldProblem> errors) {
        if (value == null) {
            return;
        }
        if (!(value instanceof Map<?, ?> headers)) {
            errors.add(new FieldProblem("headers", "must be an object of SIP header names to values"));
            return;
        }
        headers.forEach((key, text) -> {
            String name = String.valueOf(key);
            String field = "headers." + name;
            if (!CarrierOptions.isSipToken(name)) {
                errors.add(new FieldProblem(field, "is not a SIP header name (letters, digits and -.!%*_+`'~)"));
            } else if (!CarrierOptions.isAllowedSipHeaderName(name)) {
                errors.add(new FieldProblem(field, "cannot be set: the dialer writes this header itself"));
            } else if (!(text instanceof String string)) {
                errors.add(new FieldProblem(field, "must be a string"));
            } else if (!CarrierOptions.isSipHeaderValue(string)) {
                errors.add(new FieldProblem(field, "must not contain line breaks (CR or LF)"));
            } else if (string.length() > CarrierOptions.MAX_SIP_HEADER_VALUE) {
                errors.add(new FieldProblem(field, "must be at most " + CarrierOptions.MAX_SIP_HEADER_VALUE
                        + " characters"));
            }
        });
    }

    /** The dispatcher routes by a trunk name given as text, and ignores any other value or a blank one. */
    private static void trunk(Object value, List<FieldProblem> errors) {
        if (value != null && !(value instanceof String name && !name.isBlank())) {
            errors.add(new FieldProblem("to.trunk", "must be a carrier or trunk name"));
        }
    }

    /**
     * The SIP trunk carrier writes it as the {@code From}'s display name, a quoted string: it would drop a control
     * character, {@code "} or {@code \} (rather than escape them) and cut the name past {@link #MAX_CALLER_NAME}
     * characters, so such a name is refused rather than sent changed.
     */
    private static void callerName(Object value, List<FieldProblem> errors) {
        if (value == null) {
            return;
        }
        if (!(value instanceof String name)) {
            errors.add(new FieldProblem("callerName", "must be a string"));
        } else if (name.length() > MAX_CALLER_NAME) {
            errors.add(new FieldProblem("callerName", "must be at most " + MAX_CALLER_NAME + " characters"));
        } else if (!quotable(name)) {
            errors.add(new FieldProblem("callerName", "must not contain control characters, \" or \\"));
        }
    }

    /**
     * The SIP trunk carrier uses it as the {@code From} URI's host only when it is a host name or an IP address (IPv6
     * in brackets, as a SIP URI writes it), and its own configured host otherwise, blank included: such a value is
     * refused rather than replaced.
     */
    private static void fromHost(Object value, List<FieldProblem> errors) {
        if (value == null) {
            return;
        }
        if (!(value instanceof String host)) {
            errors.add(new FieldProblem("fromHost", "must be a string"));
        } else if (!CarrierOptions.isHost(host)) {
            errors.add(new FieldProblem("fromHost", "must be a host name or an IP address ([...] for IPv6)"));
        }
    }

    /**
     * The whole number of seconds {@code field} gives, null when absent: one the carrier can take, not a fraction, and
     * not a number beyond a day, which read as an int would wrap round into a small one. jambonz documents these as
     * numbers: a value written with a zero fraction ({@code 20.0}) is taken as the whole number it is, and passed on
     * as that.
     */
    private static Long seconds(Map<String, Object> body, String field, List<FieldProblem> errors) {
        Object value = body.get(field);
        if (value == null) {
            return null;
        }
        java.math.BigDecimal seconds;
        try {
            seconds = value instanceof Number ? new java.math.BigDecimal(value.toString()) : null;
        } catch (NumberFormatException e) {
            seconds = null;
        }
        if (seconds == null || seconds.signum() <= 0 || seconds.stripTrailingZeros().scale() > 0
                || seconds.compareTo(java.math.BigDecimal.valueOf(MAX_SECONDS)) > 0) {
            errors.add(new FieldProblem(field, "must be a whole number of seconds from 1 to " + MAX_SECONDS));
            return null;
        }
        return seconds.longValueExact();
    }

    /**
     * The status hook: {@code notifyUrl}, or jambonz's own name for it, {@code call_status_hook} (which the carrier
     * must not get: the dispatcher's own hook takes its place there, for the statuses it reads). Both at once are
     * refused: one of them would be ignored.
     */
    private static Hook statusHook(Map<String, Object> body, PlainHttpPolicy plainHttp, List<FieldProblem> errors) {
        Hook notifyUrl = hook(body.get("notifyUrl"), "notifyUrl", plainHttp, errors);
        Hook callStatusHook = hook(body.get("call_status_hook"), "call_status_hook", plainHttp, errors);
        if (body.get("notifyUrl") != null && body.get("call_status_hook") != null) {
            errors.add(new FieldProblem("call_status_hook", "names the same hook as notifyUrl: give one of them"));
        }
        return notifyUrl != null ? notifyUrl : callStatusHook;
    }

    /**
     * The command's {@code to}: the E.164 number of a {@code phone}, the URI of a {@code sip} target (its scheme in
     * lower case), {@code user:<name>} for a registered {@code user} (ADR 0072).
     */
    private static String callee(Object value, String region, List<FieldProblem> errors) {
        if (!(value instanceof Map<?, ?> to)) {
            errors.add(new FieldProblem("to", "is required: {type, number}, {type, sipUri} or {type, name}"));
            return null;
        }
        Object type = to.get("type");
        if ("phone".equals(type)) {
            return number(to.get("number"), "to.number", region, errors);
        }
        if ("sip".equals(type)) {
            auth(to.get("auth"), errors);
            return sipUri(to.get("sipUri"), errors);
        }
        if ("user".equals(type)) {
            return userName(to.get("name"), errors);
        }
        errors.add(new FieldProblem("to.type", type == null ? "is required"
                : "'" + type + "' is not supported: phone, sip and user destinations are dialled"));
        return null;
    }

    private static String sipUri(Object value, List<FieldProblem> errors) {
        if (!(value instanceof String text) || text.isBlank()) {
            errors.add(new FieldProblem("to.sipUri", "is required"));
            return null;
        }
        if (text.length() > Destination.MAX_SIP_URI) {
            errors.add(new FieldProblem("to.sipUri", "must be at most " + Destination.MAX_SIP_URI + " characters"));
            return null;
        }
        // The scheme is case-insensitive (RFC 3261): written in lower case, as the command's contract spells it.
        int colon = text.indexOf(':');
        String uri = colon < 0 ? text : text.substring(0, colon).toLowerCase(Locale.ROOT) + text.substring(colon);
        if (!Destination.isSipUri(uri)) {
            errors.add(new FieldProblem("to.sipUri", sipUriProblem(uri)));
            return null;
        }
        return uri;
    }

    /**
     * Why a URI is refused, the most specific reason first. The URI becomes the INVITE's Request-URI and To: anything
     * that could end or split a header field there, add header fields ({@code ?…}) or expose a password is refused.
     */
    private static String sipUriProblem(String uri) {
        if (uri.chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
            return "must not contain whitespace, control or non-ASCII characters";
        }
        if (uri.chars().anyMatch(c -> c == '<' || c == '>' || c == '"' || c == ',')) {
            return "must be a single plain URI, without < > \" or ,";
        }
        if (uri.indexOf('?') >= 0) {
            return "must not carry headers (?...)";
        }
        int at = uri.indexOf('@');
        if (at > 0 && uri.substring(uri.indexOf(':') + 1, at).indexOf(':') >= 0) {
            return "must not carry a password: put credentials in to.auth";
        }
        return "must be a sip: or sips: URI with a host, in RFC 3261's characters";
    }

    /**
     * Carried to the carrier as given, which may write them into SIP header fields (an Authorization header's quoted
     * username): a line break or a control character would end that field, and {@code "} or {@code \} the username's
     * quoted string.
     */
    private static void auth(Object value, List<FieldProblem> errors) {
        if (value == null) {
            return;
        }
        if (!(value instanceof Map<?, ?> auth && auth.get("username") instanceof String username
                && auth.get("password") instanceof String password)) {
            errors.add(new FieldProblem("to.auth", "must be {username, password}, both strings"));
            return;
        }
        if (!quotable(username)) {
            errors.add(new FieldProblem("to.auth.username", "must not contain control characters, \" or \\"));
        }
        if (password.chars().anyMatch(Character::isISOControl)) {
            errors.add(new FieldProblem("to.auth.password", "must not contain control characters"));
        }
    }

    /** Whether a SIP quoted string holds {@code value} as it is: no control character, {@code "} or {@code \}. */
    private static boolean quotable(String value) {
        return value.chars().noneMatch(c -> Character.isISOControl(c) || c == '"' || c == '\\');
    }

    private static String userName(Object value, List<FieldProblem> errors) {
        if (!(value instanceof String name) || name.isEmpty()) {
            errors.add(new FieldProblem("to.name", "is required"));
            return null;
        }
        if (!Destination.isUserName(name)) {
            errors.add(new FieldProblem("to.name", "must be 1 to " + Destination.MAX_USER_NAME
                    + " visible ASCII characters (no spaces)"));
            return null;
        }
        return Destination.user(name);
    }

    private static String number(Object value, String field, String region, List<FieldProblem> errors) {
        if (value != null && !(value instanceof String)) {
            errors.add(new FieldProblem(field, "must be a string"));
            return null;
        }
        if (!(value instanceof String text) || text.isBlank()) {
            errors.add(new FieldProblem(field, "is required"));
            return null;
        }
        PhoneNumbers.Result result = PhoneNumbers.normalize(text, region);
        if (!result.valid()) {
            errors.add(new FieldProblem(field, result.error()));
        }
        return result.e164();
    }

    private static Hook hook(Object value, String field, PlainHttpPolicy plainHttp, List<FieldProblem> errors) {
        if (value == null) {
            return null;
        }
        String url = null;
        String method = null;
        if (value instanceof String text) {
            url = text;
        } else if (value instanceof Map<?, ?> object) {
            url = object.get("url") instanceof String text ? text : null;
            Object verb = object.get("method");
            if (verb != null && !(verb instanceof String)) {
                errors.add(new FieldProblem(field + ".method", "must be GET or POST"));
                return null;
            }
            // The object form's method may be left empty, as jambonz's examples leave it: the default, POST.
            method = verb instanceof String text && !text.isBlank() ? text : null;
            if (!namesNoCredentials(object, field, errors)) {
                return null;
            }
        }
        if (url == null) {
            errors.add(new FieldProblem(field, "must be an http(s) URL or {url, method}"));
            return null;
        }
        String problem = HookUrls.problem(url, plainHttp);
        if (problem != null) {
            errors.add(new FieldProblem(value instanceof String ? field : field + ".url", problem));
            return null;
        }
        if (method != null && !method.equalsIgnoreCase("POST") && !method.equalsIgnoreCase("GET")) {
            errors.add(new FieldProblem(field + ".method", "must be GET or POST"));
            return null;
        }
        // Schemes and methods are case-insensitive: written as the command's contract spells them.
        int colon = url.indexOf(':');
        return new Hook(url.substring(0, colon).toLowerCase(Locale.ROOT) + url.substring(colon),
                method == null ? null : method.toUpperCase(Locale.ROOT));
    }

    /**
     * Whether the hook object names no credentials: the dialer's deliveries to it are signed
     * ({@code webhook-signature}), never sent with HTTP basic authentication, so a {@code username} or
     * {@code password} the receiver would wait for is a 400 naming it rather than dropped.
     */
    private static boolean namesNoCredentials(Map<?, ?> hook, String field, List<FieldProblem> errors) {
        boolean none = true;
        for (String credential : List.of("username", "password")) {
            if (hook.get(credential) != null) {
                errors.add(new FieldProblem(field + "." + credential, "is not taken: the dialer signs its "
                        + "deliveries (webhook-signature) and sends no basic authentication"));
                none = false;
            }
        }
        return none;
    }
}
