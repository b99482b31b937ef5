package dev.dialer.dispatcher.carrier;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.test.StepVerifier;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@link VoiceGatewayCarrier} against a real HTTP peer (Reactor Netty on port 0). */
class VoiceGatewayCarrierIT {

    private static final String HOOK = "http://127.0.0.1:9/carrier/voice-gateway/status";

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final ConcurrentLinkedQueue<Received> received = new ConcurrentLinkedQueue<>();
    private DisposableServer server;

    record Received(String path, String authorization, String contentType, JsonNode body) {
    }

    @AfterEach
    void stopServer() {
        if (server != null) {
            server.disposeNow();
        }
    }

    @Test
    void postsTheCallWithBearerTokenAndReturnsTheCarriersIds() {
        start(request -> Mono.just(new Reply(201, "{\"sid\":\"sid-1\",\"callId\":\"call-1\"}")));

        StepVerifier.create(carrier("key-1", Duration.ofSeconds(5)).place(command(), 1))
                .expectNext(new PlacedCall("sid-1", "call-1"))
                .expectComplete()
                .verify(Duration.ofSeconds(10));

        assertThat(received).singleElement().satisfies(call -> {
            assertThat(call.path()).isEqualTo("/v1/Accounts/acc%20one/Calls");
            assertThat(call.authorization()).isEqualTo("Bearer key-1");
            assertThat(call.contentType()).startsWith("application/json");
            assertThat(call.body().get("from").stringValue()).isEqualTo("4930123456");
            assertThat(call.body().get("tag").get("request_id").stringValue()).isEqualTo("req-1");
            assertThat(call.body().get("call_status_hook").get("url").stringValue()).isEqualTo(HOOK);
        });
        assertThat(timerCount("placed")).isEqualTo(1);
    }

    @Test
    void sendsNoAuthorizationWithoutApiKey() {
        start(request -> Mono.just(new Reply(201, "{\"sid\":\"sid-1\",\"callId\":\"call-1\"}")));

        StepVerifier.create(carrier(null, Duration.ofSeconds(5)).place(command(), 1))
                .expectNextCount(1)
                .expectComplete()
                .verify(Duration.ofSeconds(10));

        assertThat(received).singleElement().extracting(Received::authorization).isNull();
    }

    @Test
    void nonSuccessAnswerIsARejection() {
        start(request -> Mono.just(new Reply(400, "{\"errors\":[\"timeout must be a positive number\"]}")));

        StepVerifier.create(carrier(null, Duration.ofSeconds(5)).place(command(), 1))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOfSatisfying(CarrierException.class, e -> {
                            assertThat(e.reason()).isEqualTo(CarrierException.Reason.REJECTED);
                            assertThat(e.getMessage()).contains("HTTP 400").contains("timeout must be");
                        }))
                .verify(Duration.ofSeconds(10));
        assertThat(timerCount("rejected")).isEqualTo(1);
    }

    @Test
    void successWithoutAReadableSidMayHaveBeenPlacedAndIsNeverDialledAgain() {
        String tooLarge = "{\"sid\":\"sid-1\",\"padding\":\"" + "x".repeat(300 * 1024) + "\"}";
        for (String answer : List.of("{}", "not json", tooLarge)) {
            start(request -> Mono.just(new Reply(201, answer)));

            assertPlacingIsLost();
            server.disposeNow();
            server = null;
        }
        assertThat(timerCount("lost")).isEqualTo(3);
    }

    @Test
    void slowCarrierTimesOut() {
        start(request -> Mono.delay(Duration.ofSeconds(5)).thenReturn(new Reply(201, "{\"sid\":\"late\"}")));

        StepVerifier.create(carrier(null, Duration.ofMillis(300)).place(command(), 1))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOfSatisfying(CarrierException.class,
                                e -> assertThat(e.reason()).isEqualTo(CarrierException.Reason.TIMEOUT)))
                .verify(Duration.ofSeconds(10));
        assertThat(timerCount("timeout")).isEqualTo(1);
    }

    @Test
    void requestGivenUpByItsGuardIsTimedAsATimeout() {
        start(request -> Mono.delay(Duration.ofSeconds(5)).thenReturn(new Reply(201, "{\"sid\":\"late\"}")));

        // The routing guard's own timeout, shorter than the carrier's: it cancels the request before it answers.
        StepVerifier.create(carrier(null, Duration.ofSeconds(5)).place(command(), 1).timeout(Duration.ofMillis(300)))
                .expectError(TimeoutException.class)
                .verify(Duration.ofSeconds(10));
        assertThat(timerCount("timeout")).isEqualTo(1);
    }

    @Test
    void refusedConnectionIsUnreachable() {
        start(request -> Mono.just(new Reply(201, "{}")));
        int closedPort = server.port();
        server.disposeNow();
        server = null;

        StepVerifier.create(carrier(null, Duration.ofSeconds(5), "http://127.0.0.1:" + closedPort).place(command(), 1))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOfSatisfying(CarrierException.class,
                                e -> assertThat(e.reason()).isEqualTo(CarrierException.Reason.UNREACHABLE)))
                .verify(Duration.ofSeconds(10));
        assertThat(timerCount("unreachable")).isEqualTo(1);
    }

    @Test
    void connectionClosedAfterTheRequestWasSentIsLostNotUnreachable() {
        server = HttpServer.create().host("127.0.0.1").port(0)
                .handle((request, response) -> request.receive().aggregate().asString(StandardCharsets.UTF_8)
                        .doOnNext(body -> received.add(new Received(request.uri(), null, null, null)))
                        .then(Mono.defer(() -> {
                            // The carrier had the whole request (it may be placing the call) and then went away.
                            response.withConnection(connection -> connection.channel().close());
                            return Mono.never();
                        })))
                .bindNow();

        assertPlacingIsLost();
        assertThat(received).as("the request was not sent a second time").hasSize(1);
        assertThat(timerCount("lost")).isEqualTo(1);
    }

    /** Placing a call fails as one that may have been placed: lost, never tried again or elsewhere. */
    private void assertPlacingIsLost() {
        StepVerifier.create(carrier(null, Duration.ofSeconds(5)).place(command(), 1))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOfSatisfying(CarrierException.class, e -> {
                            assertThat(e.reason()).isEqualTo(CarrierException.Reason.LOST);
                            assertThat(e.mayHaveBeenPlaced()).isTrue();
                            assertThat(e.isTechnical()).as("never tried again or elsewhere").isFalse();
                        }))
                .verify(Duration.ofSeconds(10));
    }

    record Reply(int status, String json) {
    }

    private void start(Function<HttpServerRequest, Mono<Reply>> behaviour) {
        JsonMapper json = JsonMapper.builder().build();
        server = HttpServer.create().host("127.0.0.1").port(0)
                .route(routes -> routes.post("/v1/Accounts/{sid}/Calls", (request, response) ->
                        request.receive().aggregate().asString(StandardCharsets.UTF_8)
                                .doOnNext(body -> received.add(new Received(request.uri(),
                                        request.requestHeaders().get("Authorization"),
                                        request.requestHeaders().get("Content-Type"), json.readTree(body))))
                                .then(behaviour.apply(request))
                                .flatMap(reply -> response.status(reply.status())
                                        .header("Content-Type", "application/json")
                                        .sendString(Mono.just(reply.json())).then())))
                .bindNow();
    }

    private Carrier carrier(String apiKey, Duration timeout) {
        return carrier(apiKey, timeout, "http://127.0.0.1:" + server.port() + "/");
    }

    private Carrier carrier(String apiKey, Duration timeout, String baseUrl) {
        CarrierProperties properties = new CarrierProperties(baseUrl, "acc one", apiKey, "player", null, null,
                timeout, Duration.ofSeconds(60), Duration.ofHours(1), Duration.ofMinutes(5));
        return new VoiceGatewayCarrier(properties, WebClient.create(), () -> HOOK, registry);
    }

    private long timerCount(String outcome) {
        return registry.get("dialer.dispatcher.carrier.requests").tags("carrier", "voice-gateway", "outcome", outcome)
                .timer().count();
    }

    private static CallCommand command() {
        return new CallCommand(1, "req-1", "acc-1", "+4930123456", "+4915112345678", null, "a.wav", null, 0, 0, 1,
                null, null, Map.of(), null, null, null, null, null, Instant.EPOCH);
    }
}
