package dev.dialer.simulator;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Posts jambonz-style status callbacks to a call's status hooks ({@link SimulatedCall#statusHooks}), and its
 * answering-machine result to its {@code amd.actionHook}: the call's details with the event's {@code type} (and
 * {@code reason}) added, signed alike.
 */
final class StatusHookClient {

    private static final Logger log = LoggerFactory.getLogger(StatusHookClient.class);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(5);

    private final JsonMapper mapper;
    private final String webhookSecret;
    private final SimulatorMetrics metrics;
    private final double lostCallbacks;
    private final ConnectionProvider connections;
    private final HttpClient client;

    StatusHookClient(JsonMapper mapper, String webhookSecret, double lostCallbacks, SimulatorMetrics metrics) {
        this.lostCallbacks = lostCallbacks;
        this.mapper = mapper;
        this.webhookSecret = webhookSecret;
        this.metrics = metrics;
        this.connections = ConnectionProvider.builder("carrier-simulator-callbacks")
                .maxConnections(200)
                .pendingAcquireTimeout(RESPONSE_TIMEOUT)
                .build();
        this.client = HttpClient.create(connections)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT.toMillis())
                .responseTimeout(RESPONSE_TIMEOUT);
    }

    /**
     * Sends one callback to each of the hooks it goes to, one after the other. At most once: like jambonz without a
     * {@code #rc=} fragment, a refused or failed delivery is logged and counted, never retried, and never fails the
     * returned {@code Mono}, so the call's next status is still sent.
     */
    Mono<Void> deliver(SimulatedCall call, StatusUpdate update) {
        List<CreateCallRequest.StatusHook> hooks = update.isAnsweringMachineResult()
                ? answeringMachineHooks(call) : call.statusHooks();
        return Flux.fromIterable(hooks).concatMap(hook -> deliver(call, update, hook)).then();
    }

    private static List<CreateCallRequest.StatusHook> answeringMachineHooks(SimulatedCall call) {
        CreateCallRequest.StatusHook hook = call.request().answeringMachineHook();
        return hook == null ? List.of() : List.of(hook);
    }

    private Mono<Void> deliver(SimulatedCall call, StatusUpdate update, CreateCallRequest.StatusHook hook) {
        if (lostCallbacks > 0 && ThreadLocalRandom.current().nextDouble() < lostCallbacks) {
            // Deliberately lost, as carriers sometimes do: the dialer's reconciliation must notice.
            log.debug("callback {} of call {} lost on purpose", update.callStatus(), call.received().callSid());
            metrics.callback(kind(update), SimulatorMetrics.CallbackResult.LOST);
            return Mono.empty();
        }
        String body = payload(call, update);
        return post(hook, body)
                .doOnNext(code -> recordAnswer(call, update, code))
                .onErrorResume(e -> recordFailure(call, update, e))
                .then();
    }

    Mono<Void> close() {
        return connections.disposeLater();
    }

    String payload(SimulatedCall call, StatusUpdate update) {
        ReceivedCall received = call.received();
        ObjectNode json = mapper.createObjectNode()
                .put("call_sid", received.callSid())
                .put("direction", "outbound")
                .put("from", received.from())
                .put("to", received.toNumber())
                .put("call_id", received.callId())
                .put("sbc_callid", call.sbcCallId())
                .put("sip_status", update.sipStatus())
                .put("sip_reason", update.sipReason())
                .put("call_status", update.callStatus())
                .put("caller_id", received.from())
                .put("account_sid", received.accountSid())
                .put("trace_id", call.traceId());
        if (received.applicationSid() != null) {
            json.put("application_sid", received.applicationSid());
        }
        if (update.terminatedBy() != null) {
            json.put("call_termination_by", update.terminatedBy());
        }
        if (update.duration() != null) {
            json.put("duration", update.duration());
        }
        if (call.request().tag() != null) {
            json.set("customerData", call.request().tag());
        }
        if (update.isAnsweringMachineResult()) {
            json.put("type", update.amdType());
            json.put("reason", AnsweringMachineRule.MACHINE.equals(update.amdType()) ? "long greeting"
                    : "short greeting");
        }
        return mapper.writeValueAsString(json);
    }

    private Mono<Integer> post(CreateCallRequest.StatusHook hook, String json) {
        // Signed and sent as the same UTF-8 bytes, as jambonz does, whatever the platform's default charset.
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        return client
                .headers(headers -> {
                    headers.set(HttpHeaderNames.CONTENT_TYPE, "application/json");
                    if (webhookSecret != null) {
                        headers.set(WebhookSignature.HEADER,
                                WebhookSignature.sign(webhookSecret, Instant.now().getEpochSecond(), json));
                    }
                    if (hook.username() != null && hook.password() != null) {
                        headers.set(HttpHeaderNames.AUTHORIZATION, basic(hook.username(), hook.password()));
                    }
                })
                .request(HttpMethod.valueOf(hook.method()))
                .uri(hook.url())
                .send(Mono.just(Unpooled.wrappedBuffer(body)))
                .responseSingle((response, content) -> content.asString(StandardCharsets.UTF_8).defaultIfEmpty("")
                        .thenReturn(response.status().code()));
    }

    private void recordAnswer(SimulatedCall call, StatusUpdate update, int code) {

        // jambonz counts only these as delivered
        if (code == 200 || code == 202 || code == 204) {
            metrics.callback(kind(update), SimulatorMetrics.CallbackResult.OK);
            return;
        }
        metrics.callback(kind(update), SimulatorMetrics.CallbackResult.REFUSED);
        log.warn("Status hook refused {} callback for call {} with HTTP {}; not retried", update.callStatus(),
                call.received().callSid(), code);
    }

    private Mono<Integer> recordFailure(SimulatedCall call, StatusUpdate update, Throwable error) {
        metrics.callback(kind(update), SimulatorMetrics.CallbackResult.ERROR);
        log.warn("Status hook unreachable for {} callback of call {}: {}; not retried", update.callStatus(),
                call.received().callSid(), error.toString());
        return Mono.empty();
    }

    /** The metrics' {@code status} tag: the call status, or {@code amd} for an answering-machine result. */
    private static String kind(StatusUpdate update) {
        return update.isAnsweringMachineResult() ? "amd" : update.callStatus();
    }

    private static String basic(String username, String password) {
        return "Basic " + Base64.getEncoder()
                .encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
}
