package dev.dialer.dispatcher.carrier;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.db.PostgresText;
import dev.dialer.dispatcher.callback.TagSeal;
import dev.dialer.dispatcher.callback.VoiceGatewayStatus;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.ClientResponse;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Voice Gateway (jambonz) REST carrier: {@code POST {base-url}/v1/Accounts/{account-sid}/Calls}, answered
 * {@code 201 {"sid", "callId"}} once the INVITE has gone out. Status changes arrive later on the status hook.
 *
 * <p>Each request runs under the configured timeout, and is sent once: a timeout or a lost connection is reported as
 * such (the call may have been placed) and never retried here, unless the request never had a connection to be written
 * to.
 *
 * <p>Every call names an application, whose own status hook jambonz posts the call's statuses to: unless the status
 * hook also goes as {@code notifyUrl}, each application a call names is handed to {@link ApplicationStatusHooks},
 * which checks that it posts them here.
 */
final class VoiceGatewayCarrier implements Carrier {

    private static final Logger log = LoggerFactory.getLogger(VoiceGatewayCarrier.class);
    static final String NAME = "voice-gateway";
    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** A jambonz call sid: a UUID. */
    private static final Pattern CALL_SID = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final int MAX_ERROR_BODY = 300;
    /** The call sid a probe asks about: a well-formed one no call has (its version digit is none jambonz writes). */
    static final String PROBE_CALL_SID = "00000000-0000-0000-0000-000000000000";
    /**
     * How jambonz's 400 to a create-call says the API key belongs to another account than the path's sid
     * ({@code DbErrorBadRequest} in its account routes): a refusal of the dialer's credentials, not of the call.
     */
    static final String OTHER_ACCOUNTS_KEY = "unauthorized createCall request for account";

    private final String name;
    private final CarrierProperties properties;
    private final WebClient client;
    private final Supplier<String> statusHookUrl;
    private final MeterRegistry registry;
    private final ApplicationStatusHooks applications;
    private final TagSeal seal;
    private final boolean writingTracked;

    VoiceGatewayCarrier(CarrierProperties properties, WebClient client, Supplier<String> statusHookUrl,
                        MeterRegistry registry, ApplicationStatusHooks applications) {
        this(NAME, properties, client, statusHookUrl, registry, applications);
    }

    /** @param name the carrier's route name: the {@code carrier} tag of its metrics */
    VoiceGatewayCarrier(String name, CarrierProperties properties, WebClient client, Supplier<String> statusHookUrl,
                        MeterRegistry registry, ApplicationStatusHooks applications) {
        this(name, properties, client, statusHookUrl, registry, applications, false);
    }

    /**
     * @param name           the carrier's route name: the {@code carrier} tag of its metrics
     * @param writingTracked whether {@code client} notes when a request is written
     *                       ({@link CarrierConfiguration#webClient}): a create-call that timed out or failed before
     *                       that is unreachable, not maybe placed; without it every timeout is taken as maybe placed,
     *                       and so is every failure its error alone does not place before the request was sent
     *                       ({@link #transportFailure})
     */
    VoiceGatewayCarrier(String name, CarrierProperties properties, WebClient client, Supplier<String> statusHookUrl,
                        MeterRegistry registry, ApplicationStatusHooks applications, boolean writingTracked) {
        this.name = name;
        this.writingTracked = writingTracked;
        this.properties = properties;
        this.client = client;
        this.statusHookUrl = statusHookUrl;
        this.registry = registry;
        this.applications = applications;
        this.seal = TagSeal.of(properties.tagKeys());
        for (String outcome : new String[] {"placed", "rejected", "timeout", "unreachable", "lost"}) {
            timer(outcome);
        }
    }

    /**
     * Sends the create-call once. A timeout, or a connection lost, is reported as such (the call may have been
     * placed), unless the request never had a connection to be written to ({@link RequestWriting}: its carrier's name
     * did not resolve, or the TLS handshake did not end, in time; or the connection failed before it could be used,
     * {@link #notAnswered}): that one is unreachable, so the call fails over or waits, never left to the watchdog.
     */
    @Override
    public Mono<PlacedCall> place(CallCommand command, int dial) {
        return Mono.defer(() -> {
                    RequestWriting writing = new RequestWriting();
                    return Mono.defer(() -> send(applicationNoted(CreateCallBody.of(command, properties,
                                    new CreateCallBody.Sender(statusHookUrl.get(), name, Instant.now(), dial, seal)))))
                            .contextWrite(writing.context())
                            .timeout(properties.requestTimeout(), Mono.error(() -> timedOut(writing)))
                            .onErrorMap(error -> !(error instanceof CarrierException),
                                    error -> notAnswered(error, writing));
                })
                .transformDeferred(this::timed);
    }

    /**
     * Whether the request is known never to have been written to a connection: given up now, so that it never is
     * ({@link RequestWriting#abandon}). Unknown, so false, where the client does not note its writes.
     */
    private boolean neverWritten(RequestWriting writing) {
        return writingTracked && writing.abandon();
    }

    private CarrierException timedOut(RequestWriting writing) {
        if (neverWritten(writing)) {
            return new CarrierException(CarrierException.Reason.UNREACHABLE, "no connection to the carrier within "
                    + properties.requestTimeout() + " (name resolution or TLS handshake): the request was not sent",
                    null);
        }
        return new CarrierException(CarrierException.Reason.TIMEOUT, "no answer within " + properties.requestTimeout(),
                null);
    }

    /**
     * A create-call that failed without an answer: unreachable, whatever the failure, when it was never written
     * ({@link RequestWriting} gives it up): the carrier never had the request, so no call was placed, and the call
     * fails over or waits. A carrier, or the TLS terminator in front of it, that takes the connection and resets or
     * closes it during the handshake fails the request with a reset or a closed channel as often as with a handshake
     * failure, and the first two also end a connection lost after the request was sent: told from the error alone
     * ({@link #transportFailure}), such a call would be taken as maybe placed, never failed over, and left to the
     * watchdog for over an hour although nobody was called. One being written, or written, is judged by its error
     * alone.
     */
    private CarrierException notAnswered(Throwable error, RequestWriting writing) {
        if (neverWritten(writing)) {
            return new CarrierException(CarrierException.Reason.UNREACHABLE,
                    "no connection to the carrier (" + error + "): the request was not sent", error);
        }
        return transportFailure(error);
    }

    private Map<String, Object> applicationNoted(Map<String, Object> body) {
        if (body.get("application_sid") instanceof String applicationSid) {
            noteApplication(applicationSid);
        }
        return body;
    }

    /**
     * Hands an application calls name to {@link ApplicationStatusHooks}, unless the status hook goes as
     * {@code notifyUrl}: then the statuses come here whatever the application's own hook.
     */
    void noteApplication(String applicationSid) {
        if (!properties.notifyUrl()) {
            applications.used(this, applicationSid);
        }
    }

    String name() {
        return name;
    }

    String statusHookUrl() {
        return statusHookUrl.get();
    }

    /**
     * {@code GET {base-url}/v1/Applications/{sid}}: where the application posts its calls' statuses, its
     * {@code call_status_hook} URL, empty when it has none; an empty {@code Mono} when the carrier knows no such
     * application.
     */
    Mono<Optional<String>> applicationStatusHook(String applicationSid) {
        return Mono.defer(() -> client.get()
                        .uri(properties.baseUrl().replaceAll("/+$", "") + "/v1/Applications/{sid}", applicationSid)
                        .accept(MediaType.APPLICATION_JSON)
                        .headers(this::authorize)
                        .exchangeToMono(response -> response.bodyToMono(byte[].class)
                                .defaultIfEmpty(new byte[0])
                                .flatMap(body -> response.statusCode().value() == 404
                                        ? Mono.<Optional<String>>empty()
                                        : Mono.just(statusHookOf(response.statusCode(), body)))))
                .transform(this::bounded);
    }

    /**
     * The application's {@code call_status_hook}: jambonz gives it as an object with {@code url} (and
     * {@code method}), or null. A hook called with another method than POST is given with it ({@code GET https://…}),
     * so that it is never taken for the dispatcher's status hook, which takes POST only.
     */
    static Optional<String> statusHookOf(HttpStatusCode status, byte[] body) {
        if (!status.is2xxSuccessful()) {
            throw rejected("carrier answered HTTP " + status.value() + " to the application query: " + excerpt(body));
        }
        JsonNode hook;
        try {
            JsonNode json = JSON.readTree(body);
            hook = json == null ? null : json.get("call_status_hook");
        } catch (JacksonException e) {
            throw rejected("carrier answered the application query with a body that is not JSON");
        }
        String method = null;
        if (hook != null && hook.isObject()) {
            JsonNode named = hook.get("method");
            method = named != null && named.isString() && !named.stringValue().isBlank()
                    && !named.stringValue().strip().equalsIgnoreCase("POST")
                    ? named.stringValue().strip().toUpperCase(Locale.ROOT) : null;
            hook = hook.get("url");
        }
        if (hook == null || !hook.isString() || hook.stringValue().isBlank()) {
            return Optional.empty();
        }
        return Optional.of(method == null ? hook.stringValue() : method + " " + hook.stringValue());
    }

    /**
     * {@code GET …/Calls/{call_sid}}: {@code call_status}, {@code sip_status}, {@code sip_reason}, {@code duration}.
     * A call without a sid (its create-call answer never came) cannot be looked up: empty, like a 404.
     */
    @Override
    public Mono<CallReport> status(CallRef call) {
        if (call.providerCallId() == null || !CALL_SID.matcher(call.providerCallId()).matches()) {
            // Not a call this carrier placed (its call sids are UUIDs; a SIP trunk's Call-ID is not one), so it knows
            // no such call. Asked anyway, jambonz refuses such a sid with a 400: with SIP and Voice Gateway routes
            // together, every question about a SIP call the trunk had forgotten would fail, and the watchdog would ask
            // again for ever rather than end it.
            return Mono.empty();
        }
        return Mono.defer(() -> client.get()
                        .uri(callUri(), properties.accountSid(), call.providerCallId())
                        .accept(MediaType.APPLICATION_JSON)
                        .headers(this::authorize)
                        .exchangeToMono(response -> response.bodyToMono(byte[].class)
                                .defaultIfEmpty(new byte[0])
                                .flatMap(body -> Mono.justOrEmpty(report(call, response.statusCode(), body)))))
                .transform(this::bounded);
    }

    @Override
    public boolean probes() {
        return true;
    }

    @Override
    public Duration requestTimeout() {
        return properties.requestTimeout();
    }

    /**
     * {@code GET …/Calls/{call_sid}} of a call that never was ({@link #PROBE_CALL_SID}): the carrier answers 404, as
     * for any call it does not know, when its API and the account's key work. An answer a create-call would take for a
     * technical failure or one that may have placed the call (a 5xx, 480, a refusal of the credentials), no connection
     * or no answer in time is an error; any other answer (a 429 of its rate limit included) says the carrier works.
     */
    @Override
    public Mono<Void> probe() {
        return Mono.defer(() -> client.get()
                        .uri(callUri(), properties.accountSid(), PROBE_CALL_SID)
                        .accept(MediaType.APPLICATION_JSON)
                        .headers(this::authorize)
                        .exchangeToMono(response -> response.releaseBody().then(Mono.defer(() -> {
                            int code = response.statusCode().value();
                            CarrierException failure = new CarrierException(CarrierException.Reason.REJECTED, code,
                                    "carrier answered HTTP " + code + " to a probe", null);
                            return failure.countsAgainstCarrier() ? Mono.<Void>error(failure) : Mono.<Void>empty();
                        }))))
                .transform(this::bounded);
    }

    /**
     * {@code PUT …/Calls/{call_sid}} with {@code call_status} {@code no-answer}, which cancels a ringing call; a call
     * the carrier reports answered is left to talk (a cancel that crossed the answer comes too late).
     */
    @Override
    public Mono<Boolean> hangUp(CallRef call) {
        return status(call)
                .filter(report -> !report.status().isTerminal())
                .flatMap(report -> {
                    if (report.status() == AttemptStatus.IN_PROGRESS) {
                        log.info("request {} attempt {} was answered before its cancel reached the carrier; left to "
                                + "talk", call.requestId(), call.attempt());
                        return Mono.just(true);
                    }
                    return update(call, "no-answer").thenReturn(false);
                });
    }

    private Mono<Void> update(CallRef call, String callStatus) {
        return Mono.defer(() -> client.put()
                        .uri(callUri(), properties.accountSid(), call.providerCallId())
                        .contentType(MediaType.APPLICATION_JSON)
                        .headers(this::authorize)
                        .bodyValue(JSON.writeValueAsBytes(Map.of("call_status", callStatus)))
                        .exchangeToMono(response -> response.bodyToMono(byte[].class)
                                .defaultIfEmpty(new byte[0])
                                .flatMap(body -> response.statusCode().is2xxSuccessful()
                                        || response.statusCode().value() == 404 ? Mono.<Void>empty()
                                        : Mono.error(rejected("carrier answered HTTP "
                                        + response.statusCode().value() + " to the update: " + excerpt(body))))))
                .transform(this::bounded);
    }

    static CallReport report(CallRef call, HttpStatusCode status, byte[] body) {
        if (status.value() == 404) {
            return null;
        }
        if (!status.is2xxSuccessful()) {
            throw rejected("carrier answered HTTP " + status.value() + " to the status query: " + excerpt(body));
        }
        JsonNode json;
        try {
            json = JSON.readTree(body);
        } catch (JacksonException e) {
            throw rejected("carrier answered the status query with a body that is not JSON");
        }
        String raw = json == null || json.get("call_status") == null ? null : json.get("call_status").asString();
        AttemptStatus mapped = VoiceGatewayStatus.toAttemptStatus(raw).orElseThrow(() -> rejected(
                "carrier reported a call status it does not document: " + raw));
        return new CallReport(mapped, raw, call.providerCallId(), integer(json, "sip_status"),
                json.hasNonNull("sip_reason") ? json.get("sip_reason").asString() : null, integer(json, "duration"));
    }

    private static Integer integer(JsonNode json, String field) {
        JsonNode value = json.get(field);
        return value != null && value.canConvertToInt() && value.isNumber() ? value.intValue() : null;
    }

    private <T> Mono<T> bounded(Mono<T> request) {
        return request.timeout(properties.requestTimeout(), Mono.error(() -> new CarrierException(
                        CarrierException.Reason.TIMEOUT, "no answer within " + properties.requestTimeout(), null)))
                .onErrorMap(error -> !(error instanceof CarrierException), VoiceGatewayCarrier::transportFailure);
    }

    private String callUri() {
        return properties.baseUrl().replaceAll("/+$", "") + "/v1/Accounts/{sid}/Calls/{callSid}";
    }

    private void authorize(org.springframework.http.HttpHeaders headers) {
        if (properties.apiKey() != null) {
            headers.setBearerAuth(properties.apiKey());
        }
    }

    private Mono<PlacedCall> send(Object body) {
        return client.post()
                .uri(properties.baseUrl().replaceAll("/+$", "") + "/v1/Accounts/{sid}/Calls", properties.accountSid())
                .contentType(MediaType.APPLICATION_JSON)
                .accept(MediaType.APPLICATION_JSON)
                .headers(headers -> {
                    if (properties.apiKey() != null) {
                        headers.setBearerAuth(properties.apiKey());
                    }
                })
                .bodyValue(JSON.writeValueAsBytes(body))
                .exchangeToMono(this::answer);
    }

    private Mono<PlacedCall> answer(ClientResponse response) {
        return response.bodyToMono(byte[].class)
                .defaultIfEmpty(new byte[0])
                .map(body -> placedCall(response.statusCode(), body));
    }

    static PlacedCall placedCall(HttpStatusCode status, byte[] body) {
        if (!status.is2xxSuccessful()) {
            String text = excerpt(body);
            if (status.value() == 503 && resetAfterForwarding(text)) {
                throw new CarrierException(CarrierException.Reason.LOST, status.value(), "the carrier's proxy lost "
                        + "the request after it was forwarded, HTTP 503: " + text, null);
            }
            if (status.value() == 400 && text.contains(OTHER_ACCOUNTS_KEY)) {
                throw CarrierException.credentialsRefused(status.value(), "carrier refused the API key for the "
                        + "account sid the request names, HTTP 400: " + text);
            }
            throw new CarrierException(CarrierException.Reason.REJECTED, status.value(),
                    "carrier answered HTTP " + status.value() + ": " + text, null);
        }
        // A 2xx says the carrier took the call on (jambonz answers 201 once the INVITE is out): an answer that cannot
        // be read is no refusal, and the call, which may well be ringing, is reconciled from its callbacks.
        try {
            JsonNode answer = JSON.readTree(body);
            JsonNode sid = answer == null ? null : answer.get("sid");
            if (sid == null || !sid.isString() || sid.stringValue().isBlank()) {
                throw unreadable("carrier answered HTTP " + status.value() + " without a call sid: " + excerpt(body));
            }
            JsonNode callId = answer.get("callId");
            return new PlacedCall(sid.stringValue(), callId != null && callId.isString() ? callId.stringValue() : null);
        } catch (JacksonException e) {
            throw unreadable("carrier answered HTTP " + status.value() + " with a body that is not JSON");
        }
    }

    private Mono<PlacedCall> timed(Mono<PlacedCall> call) {
        return Mono.defer(() -> {
            Timer.Sample sample = Timer.start(registry);
            return call
                    .doOnSuccess(placed -> sample.stop(timer("placed")))
                    .doOnError(CarrierException.class, e -> sample.stop(timer(e.reason().wire())))
                    // Cancelled before an answer: the routing guard's timeout gave up on it first (or the service
                    // is stopping), and the slowest requests are the ones the timer must not leave out.
                    .doOnCancel(() -> sample.stop(timer(CarrierException.Reason.TIMEOUT.wire())));
        });
    }

    private Timer timer(String outcome) {
        return Timer.builder("dialer.dispatcher.carrier.requests")
                .description("Create-call requests to the carrier, by outcome")
                .tag("carrier", name)
                .tag("outcome", outcome)
                .register(registry);
    }

    private static CarrierException rejected(String message) {
        return new CarrierException(CarrierException.Reason.REJECTED, message, null);
    }

    private static CarrierException unreadable(String message) {
        return new CarrierException(CarrierException.Reason.LOST, message, null);
    }

    /**
     * A request that got no usable answer: {@code UNREACHABLE} only when it certainly never reached the carrier (no
     * connection could be made: refused, timed out, no such host, no route, network unreachable, TLS handshake
     * failed; or none could be had from the pool), {@code LOST} for anything else — the connection failed after the
     * request was sent (closed before the answer, reset), an answer that could not be read (larger than the client
     * takes), an error not foreseen — so the carrier may have acted on it and the call is never dialled again.
     * reactor-netty itself repeats, once, a request whose pooled connection closed before it was written. This goes by
     * the error alone: a create-call known never to have been written is unreachable whatever its error
     * ({@link #notAnswered}).
     */
    static CarrierException transportFailure(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof java.net.ConnectException || cause instanceof java.net.UnknownHostException
                    || cause instanceof java.net.NoRouteToHostException
                    || cause instanceof java.net.PortUnreachableException
                    || cause instanceof javax.net.ssl.SSLHandshakeException
                    || cause instanceof java.util.concurrent.TimeoutException
                    || (cause instanceof java.net.SocketException && String.valueOf(cause.getMessage())
                            .toLowerCase(java.util.Locale.ROOT).contains("unreachable"))) {
                return new CarrierException(CarrierException.Reason.UNREACHABLE, "carrier unreachable: " + error,
                        error);
            }
        }
        return new CarrierException(CarrierException.Reason.LOST,
                "no usable answer from the carrier after the request was sent: " + error, error);
    }

    /**
     * Whether a 503 is an Envoy proxy's (Istio's, and many API gateways') "upstream connect error or disconnect/reset
     * before headers" for a request it had forwarded: the upstream's connection was reset or closed before it answered
     * (reset reason {@code connection termination}, {@code remote reset}, {@code local reset}, {@code protocol error}),
     * so jambonz may have placed the call, as after a 502. One whose reason says the proxy never reached the upstream
     * ({@code connection failure}, a {@code connect error:}, {@code connection timeout}, {@code overflow}: its circuit
     * breaker) did not forward it, and is a 503 as any: not placed. So is every other 503 (jambonz's own, a proxy
     * with no upstream to send to).
     */
    static boolean resetAfterForwarding(String answer) {
        String text = answer.toLowerCase(Locale.ROOT);
        if (!text.contains("reset before headers")) {
            return false;
        }
        // "connect error:" as a transport failure names it ("delayed connect error: 111"), not the message's own
        // "upstream connect error or disconnect/reset".
        return !(text.contains("connection failure") || text.contains("connect error:")
                || text.contains("connection timeout") || text.contains("overflow"));
    }

    /**
     * The start of the carrier's answer, as the failure's message quotes it: bytes that are not UTF-8 read as U+FFFD,
     * and so does a NUL character ({@link PostgresText}), which the message would otherwise carry into the log and
     * into the events' {@code error.message} (PostgreSQL's {@code jsonb}, the outbox's, refuses it).
     */
    private static String excerpt(byte[] body) {
        String text = PostgresText.storable(new String(body, StandardCharsets.UTF_8).strip());
        return text.length() <= MAX_ERROR_BODY ? text : text.substring(0, MAX_ERROR_BODY) + "…";
    }
}
