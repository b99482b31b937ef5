package dev.dialer.dispatcher.carrier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.EventType;
import dev.dialer.dispatcher.TestClock;
import dev.dialer.dispatcher.callback.CarrierCallback;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Status;
import org.springframework.http.HttpStatus;
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
    /** What the peer answers to {@code GET /v1/Applications/{sid}}, by sid; 404 for any other. */
    private final Map<String, Reply> applications = new ConcurrentHashMap<>();
    private final TestClock clock = TestClock.at(Instant.parse("2025-06-01T12:00:00Z"));
    private final ApplicationStatusHooks hooks = new ApplicationStatusHooks(properties(null, Duration.ofSeconds(5),
            "http://127.0.0.1:1", false), clock, registry);
    private DisposableServer server;

    record Received(String path, String authorization, String contentType, JsonNode body) {
    }

    @AfterEach
    void stopServer() {
        hooks.stop();
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
    void aCallIdThatIsNoCallSidIsNoCallOfThisCarrierAndIsNotAskedAbout() {
        start(request -> Mono.just(new Reply(201, "{\"sid\":\"sid-1\"}")));
        VoiceGatewayCarrier carrier = carrier(null, Duration.ofSeconds(5));
        // A SIP trunk's Call-ID, as a route table with both carriers asks each about it.
        CallRef sipCall = new CallRef("req-1", 1, "5a1f0c3e9b2d4e7f@10.0.0.5");

        StepVerifier.create(carrier.status(sipCall)).expectComplete().verify(Duration.ofSeconds(10));
        StepVerifier.create(carrier.hangUp(sipCall)).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(received).as("nothing asked of the carrier").isEmpty();
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

    /**
     * A refusal whose body holds a NUL character: its message, and the event the dispatcher makes of it, quote the body
     * with U+FFFD in its place. PostgreSQL's {@code jsonb}, where the event waits in the outbox, refuses a NUL, which
     * would keep the dial's failure from being recorded and leave the call, never placed, to the watchdog.
     */
    @Test
    void aNulInTheCarriersRefusalIsQuotedAsAReplacementCharacterInTheMessageAndItsEvent() {
        start(request -> Mono.just(new Reply(503, "{\"msg\":\"no feature server\u0000available\"}")));

        StepVerifier.create(carrier(null, Duration.ofSeconds(5)).place(command(), 1))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOfSatisfying(CarrierException.class, e -> {
                            assertThat(e.reason()).isEqualTo(CarrierException.Reason.REJECTED);
                            assertThat(e.isTechnical()).as("not placed: the call waits or fails over").isTrue();
                            assertThat(e.getMessage()).contains("HTTP 503", "no feature server\uFFFDavailable")
                                    .doesNotContain("\u0000");
                            // As the dispatcher reports a call no carrier placed (call.deferred, carrier_error).
                            CallEvent deferred = CallEvent.about(command()).type(EventType.DEFERRED)
                                    .status("deferred").error("carrier_error", e.getMessage()).build();
                            assertThat(deferred.error().message()).doesNotContain("\u0000");
                            assertThat(Contract.toJson(deferred)).contains("no feature server\uFFFDavailable")
                                    .doesNotContain("\\u0000");
                        }))
                .verify(Duration.ofSeconds(10));
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

    /**
     * A carrier host that never answers the connection (down, or behind a firewall dropping packets): no refusal
     * comes back, and the connect timeout, shorter than the request's, tells it apart from a request the carrier took
     * and did not answer. Unreachable: the call goes to the next carrier or waits, never left as maybe placed.
     */
    @Test
    void aConnectionThatIsNeverAnsweredIsUnreachableNotMaybePlaced() throws Exception {
        try (java.net.ServerSocket full = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            // Its accept queue filled and nothing accepted: further connections are not answered.
            List<java.net.Socket> queued = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                java.net.Socket socket = new java.net.Socket();
                queued.add(socket);
                try {
                    socket.connect(full.getLocalSocketAddress(), 300);
                } catch (java.io.IOException unanswered) {
                    // The queue is full already.
                }
            }
            CarrierProperties properties = properties(null, Duration.ofSeconds(5),
                    "http://127.0.0.1:" + full.getLocalPort(), false);
            reactor.netty.resources.ConnectionProvider connections =
                    reactor.netty.resources.ConnectionProvider.newConnection();

            StepVerifier.create(new VoiceGatewayCarrier(properties,
                            CarrierConfiguration.webClient(properties, connections), () -> HOOK, registry, hooks)
                            .place(command(), 1))
                    .expectErrorSatisfies(error -> assertThat(error)
                            .isInstanceOfSatisfying(CarrierException.class, e -> {
                                assertThat(e.reason()).isEqualTo(CarrierException.Reason.UNREACHABLE);
                                assertThat(e.mayHaveBeenPlaced()).isFalse();
                            }))
                    .verify(Duration.ofSeconds(10));
            assertThat(timerCount("unreachable")).isEqualTo(1);
            for (java.net.Socket socket : queued) {
                socket.close();
            }
        }
    }

    /**
     * A carrier whose TLS terminator takes the connection and never ends the handshake (overloaded, a broken proxy):
     * the request never had a connection to be written to, so it cannot have placed a call. Unreachable: the call
     * fails over or waits, not left as maybe placed to the watchdog for over an hour.
     */
    @Test
    void aCreateCallWhoseTlsHandshakeNeverEndsIsUnreachableNotMaybePlaced() throws Exception {
        java.net.InetAddress loopback = java.net.InetAddress.getLoopbackAddress();
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, loopback)) {
            List<java.net.Socket> accepted = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        accepted.add(silent.accept()); // Taken, and never answered: no ServerHello comes.
                    }
                } catch (java.io.IOException closed) {
                    // The test ended.
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();

            // 3 s: the JVM's first TLS context may take a second or more to build before the connection is made.
            StepVerifier.create(configuredCarrier("https://127.0.0.1:" + silent.getLocalPort(), Duration.ofSeconds(3))
                            .place(command(), 1))
                    .expectErrorSatisfies(error -> assertThat(error)
                            .isInstanceOfSatisfying(CarrierException.class, e -> {
                                assertThat(e.reason()).isEqualTo(CarrierException.Reason.UNREACHABLE);
                                assertThat(e.mayHaveBeenPlaced()).isFalse();
                                assertThat(e.getMessage()).contains("the request was not sent");
                            }))
                    .verify(Duration.ofSeconds(10));
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(accepted)
                    .as("the connection was made; only the handshake never ended").isNotEmpty());
            assertThat(timerCount("unreachable")).isEqualTo(1);
            for (java.net.Socket socket : List.copyOf(accepted)) {
                socket.close();
            }
        }
    }

    /**
     * A carrier whose TLS terminator takes the connection and drops it at once, reset or closed, before the handshake
     * ends: the client fails with a connection reset, a closed channel or a handshake failure, the first two as after
     * a request the carrier had. The request never had a connection to be written to, so it cannot have placed a
     * call: unreachable, whatever the error, and the call fails over or waits, not left as maybe placed to the
     * watchdog for over an hour. Over TLS, as the handshake cannot end, the request is never written; a plain HTTP
     * peer that closes at once may or may not have been written to before the client saw the close.
     */
    @Test
    void aCreateCallWhoseConnectionIsDroppedDuringTheTlsHandshakeIsUnreachableNotMaybePlaced() throws Exception {
        java.net.InetAddress loopback = java.net.InetAddress.getLoopbackAddress();
        for (boolean reset : List.of(true, false)) {
            try (java.net.ServerSocket dropping = new java.net.ServerSocket(0, 50, loopback)) {
                AtomicInteger accepted = new AtomicInteger();
                Thread acceptor = new Thread(() -> {
                    try {
                        while (true) {
                            java.net.Socket socket = dropping.accept();
                            accepted.incrementAndGet();
                            if (reset) {
                                socket.setSoLinger(true, 0); // Closed with a reset (RST), not a FIN.
                            }
                            socket.close();
                        }
                    } catch (java.io.IOException closed) {
                        // The test ended.
                    }
                });
                acceptor.setDaemon(true);
                acceptor.start();

                // 3 s: the JVM's first TLS context may take a second or more to build before the connection is made.
                StepVerifier.create(configuredCarrier("https://127.0.0.1:" + dropping.getLocalPort(),
                                Duration.ofSeconds(3)).place(command(), 1))
                        .expectErrorSatisfies(error -> assertThat(error)
                                .isInstanceOfSatisfying(CarrierException.class, e -> {
                                    assertThat(e.reason()).as(reset ? "reset" : "closed")
                                            .isEqualTo(CarrierException.Reason.UNREACHABLE);
                                    assertThat(e.mayHaveBeenPlaced()).isFalse();
                                    assertThat(e.isTechnical()).as("failed over, or waits").isTrue();
                                    assertThat(e.getMessage()).contains("the request was not sent");
                                }))
                        .verify(Duration.ofSeconds(10));
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(accepted.get())
                        .as("the connection was made; only the handshake did not end").isPositive());
            }
        }
        assertThat(timerCount("unreachable")).isEqualTo(2);
        assertThat(timerCount("lost")).isZero();
    }

    @Test
    void aRequestTheCarrierTookAndDidNotAnswerIsATimeoutThroughTheConfiguredClient() {
        start(request -> Mono.delay(Duration.ofSeconds(5)).thenReturn(new Reply(201, "{\"sid\":\"late\"}")));

        StepVerifier.create(configuredCarrier("http://127.0.0.1:" + server.port(), Duration.ofMillis(500))
                        .place(command(), 1))
                .expectErrorSatisfies(error -> assertThat(error)
                        .isInstanceOfSatisfying(CarrierException.class, e -> {
                            assertThat(e.reason()).isEqualTo(CarrierException.Reason.TIMEOUT);
                            assertThat(e.mayHaveBeenPlaced()).isTrue();
                        }))
                .verify(Duration.ofSeconds(10));
        // The server notes the request once it has read it, which on a busy machine may come after the time-out.
        await().atMost(Duration.ofSeconds(5)).until(() -> received.size() == 1);
        assertThat(timerCount("timeout")).isEqualTo(1);
    }

    /**
     * The other side of the agreement: a request its timeout gave up before it had a connection is never written
     * afterwards, however late the connection comes, so the unreachable answer it got stays true.
     */
    @Test
    void aRequestGivenUpBeforeItHadAConnectionIsNeverWrittenAfterwards() throws Exception {
        start(request -> Mono.just(new Reply(201, "{\"sid\":\"s\"}")));
        CarrierProperties properties = properties(null, Duration.ofSeconds(5), "http://127.0.0.1:" + server.port(),
                false);
        WebClient client = CarrierConfiguration.webClient(properties,
                reactor.netty.resources.ConnectionProvider.newConnection());
        java.net.InetAddress loopback = java.net.InetAddress.getLoopbackAddress();
        try (java.net.ServerSocket listening = new java.net.ServerSocket(0, 50, loopback)) {
            java.util.concurrent.CompletableFuture<Integer> firstByte = java.util.concurrent.CompletableFuture
                    .supplyAsync(() -> {
                        try (java.net.Socket socket = listening.accept()) {
                            socket.setSoTimeout(2_000);
                            return socket.getInputStream().read();
                        } catch (java.io.IOException e) {
                            return -2;
                        }
                    });
            RequestWriting writing = new RequestWriting();
            assertThat(writing.abandon()).isTrue();

            String calls = "http://127.0.0.1:" + listening.getLocalPort() + "/v1/Accounts/a/Calls";
            StepVerifier.create(client.post().uri(calls)
                            .bodyValue("{}").retrieve().toBodilessEntity().contextWrite(writing.context()))
                    .expectError()
                    .verify(Duration.ofSeconds(10));
            assertThat(firstByte.get(10, java.util.concurrent.TimeUnit.SECONDS))
                    .as("connected, and not a byte written: closed (-1) or nothing within 2 s (-2)").isNegative();
        }

        RequestWriting sent = new RequestWriting();
        StepVerifier.create(client.post().uri("http://127.0.0.1:" + server.port() + "/v1/Accounts/a/Calls")
                        .bodyValue("{}").retrieve().toBodilessEntity().contextWrite(sent.context()))
                .expectNextCount(1)
                .verifyComplete();
        assertThat(sent.abandon()).as("written: no longer to be given up").isFalse();
        assertThat(received).hasSize(1);
    }

    /** A carrier as the dispatcher builds it: its own connections, a client noting when a request is written. */
    private VoiceGatewayCarrier configuredCarrier(String baseUrl, Duration timeout) {
        CarrierProperties properties = properties(null, timeout, baseUrl, false);
        return new VoiceGatewayCarrier(VoiceGatewayCarrier.NAME, properties,
                CarrierConfiguration.webClient(properties, reactor.netty.resources.ConnectionProvider.newConnection()),
                () -> HOOK, registry, hooks, true);
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
        // Through the client that notes when a request is written, as the dispatcher builds it: this one was.
        assertPlacingIsLost(configuredCarrier("http://127.0.0.1:" + server.port(), Duration.ofSeconds(5)));
        assertThat(received).as("neither request was sent a second time").hasSize(2);
        assertThat(timerCount("lost")).isEqualTo(2);
    }

    @Test
    void statusHookAlsoGoesAsNotifyUrlWhenAskedAndNoApplicationIsThenChecked() {
        start(request -> Mono.just(new Reply(201, "{\"sid\":\"sid-1\",\"callId\":\"call-1\"}")));
        hooks.start();
        String base = "http://127.0.0.1:" + server.port();

        StepVerifier.create(new VoiceGatewayCarrier(properties(null, Duration.ofSeconds(5), base, true),
                        WebClient.create(), () -> HOOK, registry, hooks).place(command("flow-1"), 1))
                .expectNextCount(1)
                .expectComplete()
                .verify(Duration.ofSeconds(10));

        assertThat(received).singleElement().satisfies(call -> {
            assertThat(call.body().get("application_sid").stringValue()).isEqualTo("flow-1");
            assertThat(call.body().get("notifyUrl").get("url").stringValue()).isEqualTo(HOOK);
            assertThat(call.body().get("notifyUrl").get("method").stringValue()).isEqualTo("POST");
            assertThat(call.body().get("call_status_hook").get("url").stringValue()).isEqualTo(HOOK);
        });
        assertThat(hooks.health().getDetails()).containsEntry("checked", 0);
    }

    @Test
    void applicationPostingElsewhereIsCheckedOnceNamedInHealthAndCountedUntilItPostsHere() {
        applications.put("player", new Reply(200, "{\"call_status_hook\":{\"url\":\""
                + HOOK.replace("http://", "HTTP://") + "/#rc=3&rp=all\"}}"));
        applications.put("flow-1", new Reply(200, "{\"application_sid\":\"flow-1\",\"call_status_hook\":"
                + "{\"url\":\"https://flow.example.com/status\",\"method\":\"POST\"}}"));
        start(request -> Mono.just(new Reply(201, "{\"sid\":\"sid-1\",\"callId\":\"call-1\"}")));
        VoiceGatewayCarrier carrier = carrier(null, Duration.ofSeconds(5));
        // As the configuration does: the default application is noted before the dispatcher has started.
        carrier.noteApplication("player");
        hooks.start();

        for (int i = 0; i < 3; i++) {
            StepVerifier.create(carrier.place(command("flow-1"), 1)).expectNextCount(1).expectComplete()
                    .verify(Duration.ofSeconds(10));
        }

        await().atMost(Duration.ofSeconds(10)).until(() -> checks("here") + checks("elsewhere") == 2);
        assertThat(checks("here")).as("the player's hook, with jambonz's retry fragment").isEqualTo(1);
        assertThat(hooks.health().getStatus()).isEqualTo(Status.DOWN);
        assertThat(hooks.health().getDetails()).containsEntry("postingElsewhere",
                Map.of("voice-gateway/flow-1", "https://flow.example.com/status"));
        assertThat(registry.get("dialer.dispatcher.carrier.applications.misdirected").gauge().value()).isEqualTo(1);
        assertThat(applicationQueries("flow-1")).as("asked once within the interval").isEqualTo(1);

        applications.put("flow-1", new Reply(200, "{\"call_status_hook\":{\"url\":\"" + HOOK + "\"}}"));
        clock.advance(Duration.ofMinutes(10));
        StepVerifier.create(carrier.place(command("flow-1"), 1)).expectNextCount(1).expectComplete()
                .verify(Duration.ofSeconds(10));

        await().atMost(Duration.ofSeconds(10)).until(() -> checks("here") == 2);
        assertThat(hooks.health().getStatus()).isEqualTo(Status.UP);
        assertThat(registry.get("dialer.dispatcher.carrier.applications.misdirected").gauge().value()).isZero();
        assertThat(applicationQueries("flow-1")).isEqualTo(2);
    }

    @Test
    void anApplicationFoundPostingElsewhereIsNoLongerNamedOnceGoneOrNoLongerUsed() {
        String elsewhere = "{\"call_status_hook\":{\"url\":\"https://flow.example.com/status\"}}";
        applications.put("old-flow", new Reply(200, elsewhere));
        applications.put("unused-flow", new Reply(200, elsewhere));
        start(request -> Mono.just(new Reply(201, "{\"sid\":\"sid-1\",\"callId\":\"call-1\"}")));
        VoiceGatewayCarrier carrier = carrier(null, Duration.ofSeconds(5));
        hooks.start();
        carrier.noteApplication("old-flow");
        carrier.noteApplication("unused-flow");
        await().atMost(Duration.ofSeconds(10)).until(() -> checks("elsewhere") == 2);
        assertThat(registry.get("dialer.dispatcher.carrier.applications.misdirected").gauge().value()).isEqualTo(2);

        // The account replaced old-flow by a new application and deleted it; a call still names it once.
        applications.remove("old-flow");
        clock.advance(Duration.ofMinutes(10));
        carrier.noteApplication("old-flow");
        await().atMost(Duration.ofSeconds(10)).until(() -> checks("unknown") == 1);
        assertThat(hooks.health().getDetails()).containsEntry("postingElsewhere",
                Map.of("voice-gateway/unused-flow", "https://flow.example.com/status"));

        // unused-flow is named by no call any more: after three intervals it is not reported.
        clock.advance(Duration.ofMinutes(20).plusSeconds(1));
        assertThat(hooks.health().getStatus()).isEqualTo(Status.UP);
        assertThat(registry.get("dialer.dispatcher.carrier.applications.misdirected").gauge().value()).isZero();
    }

    /**
     * An application found posting elsewhere, still named by calls, whose checks then fail (the carrier's API answers
     * 503): it stays reported past three intervals, and is no longer once a check finds it posting here.
     */
    @Test
    void anApplicationStillNamedStaysReportedWhileItsChecksFail() {
        String elsewhere = "{\"call_status_hook\":{\"url\":\"https://flow.example.com/status\"}}";
        applications.put("flow", new Reply(200, elsewhere));
        start(request -> Mono.just(new Reply(201, "{\"sid\":\"sid-1\",\"callId\":\"call-1\"}")));
        VoiceGatewayCarrier carrier = carrier(null, Duration.ofSeconds(5));
        hooks.start();
        carrier.noteApplication("flow");
        await().atMost(Duration.ofSeconds(10)).until(() -> checks("elsewhere") == 1);

        applications.put("flow", new Reply(503, "{\"msg\":\"unavailable\"}"));
        for (int interval = 1; interval <= 4; interval++) {
            clock.advance(Duration.ofMinutes(10).plusSeconds(1));
            carrier.noteApplication("flow");
            int checked = interval;
            await().atMost(Duration.ofSeconds(10)).until(() -> checks("unknown") == checked);
        }
        assertThat(hooks.health().getStatus()).isEqualTo(Status.DOWN);
        assertThat(registry.get("dialer.dispatcher.carrier.applications.misdirected").gauge().value()).isEqualTo(1);

        applications.put("flow", new Reply(200, "{\"call_status_hook\":{\"url\":\"" + HOOK + "\"}}"));
        clock.advance(Duration.ofMinutes(10).plusSeconds(1));
        carrier.noteApplication("flow");
        await().atMost(Duration.ofSeconds(10)).until(() -> checks("here") == 1);
        assertThat(hooks.health().getStatus()).isEqualTo(Status.UP);
    }

    @Test
    void applicationTheCarrierCannotTellAboutIsCountedUnknownAndLeavesHealthUp() {
        applications.put("refused", new Reply(403, "{\"msg\":\"insufficient privileges\"}"));
        start(request -> Mono.just(new Reply(201, "{\"sid\":\"sid-1\",\"callId\":\"call-1\"}")));
        VoiceGatewayCarrier carrier = carrier(null, Duration.ofSeconds(5));
        hooks.start();

        carrier.noteApplication("gone");
        carrier.noteApplication("refused");

        await().atMost(Duration.ofSeconds(10)).until(() -> checks("unknown") == 2);
        assertThat(hooks.health().getStatus()).isEqualTo(Status.UP);
        assertThat(checks("here") + checks("elsewhere")).isZero();
    }

    /** A flow_id is any text a producer writes: the applications noted do not grow with every one ever named. */
    @Test
    void applicationsWhoseIntervalPassedAreForgottenOnceTheirNumberDoublesAndCheckedAgainAtTheirNextUse() {
        start(request -> Mono.just(new Reply(201, "{\"sid\":\"sid-1\"}")));
        VoiceGatewayCarrier carrier = carrier(null, Duration.ofSeconds(5));
        hooks.start();
        int noted = 0;
        while (noted < ApplicationStatusHooks.PRUNE_AT - 1) {
            // A chunk at a time: the checks' queue holds a few hundred, and a note it cannot take is not kept.
            for (int i = 0; i < 128 && noted < ApplicationStatusHooks.PRUNE_AT - 1; i++) {
                carrier.noteApplication("app-" + noted++);
            }
            int checked = noted;
            await().atMost(Duration.ofSeconds(20)).until(() -> checks("unknown") == checked);
        }
        clock.advance(Duration.ofMinutes(4));
        carrier.noteApplication("app-recent");
        assertThat(hooks.noted()).isEqualTo(ApplicationStatusHooks.PRUNE_AT);
        clock.advance(Duration.ofMinutes(6));
        carrier.noteApplication("app-new");

        assertThat(hooks.noted()).as("those checked more than an interval ago are forgotten").isEqualTo(2);
        carrier.noteApplication("app-0");
        carrier.noteApplication("app-recent");
        await().atMost(Duration.ofSeconds(10)).until(() -> checks("unknown") == ApplicationStatusHooks.PRUNE_AT + 2);
        assertThat(applicationQueries("app-0")).as("checked again at its next use").isEqualTo(2);
        assertThat(applicationQueries("app-recent")).as("still within its interval").isEqualTo(1);
    }

    @Test
    void anApplicationHookCalledWithGetIsNotTakenForTheStatusHookWhichTakesPostOnly() {
        byte[] get = ("{\"call_status_hook\":{\"url\":\"" + HOOK + "\",\"method\":\"get\"}}")
                .getBytes(StandardCharsets.UTF_8);
        byte[] post = ("{\"call_status_hook\":{\"url\":\"" + HOOK + "\",\"method\":\"POST\"}}")
                .getBytes(StandardCharsets.UTF_8);

        assertThat(VoiceGatewayCarrier.statusHookOf(HttpStatus.OK, get)).contains("GET " + HOOK)
                .hasValueSatisfying(theirs -> assertThat(ApplicationStatusHooks.sameHook(theirs, HOOK)).isFalse());
        assertThat(VoiceGatewayCarrier.statusHookOf(HttpStatus.OK, post)).contains(HOOK);
    }

    /**
     * A call sid holding a NUL character is recorded with U+FFFD in its place, as the callbacks that name the call are
     * read: PostgreSQL stores no NUL in the attempt's {@code text} column, and the claimed attempt's command would be
     * dead-lettered with its call perhaps ringing.
     */
    @Test
    void aCallSidHoldingANulIsKeptAsItsCallbacksKeepItAndStillNamesTheCall() {
        PlacedCall placed = VoiceGatewayCarrier.placedCall(HttpStatus.CREATED,
                "{\"sid\":\"sid\\u00001\",\"callId\":\"call-1\"}".getBytes(StandardCharsets.UTF_8));
        CarrierCallback callback = new CarrierCallback("req-1", 1, AttemptStatus.FAILED, "fail\u0000ed", "sid\u00001",
                486, "Busy\u0000Here", null);

        assertThat(placed.sid()).isEqualTo("sid\uFFFD1");
        assertThat(callback.providerCallId()).isEqualTo(placed.sid());
        assertThat(callback.providerStatus()).isEqualTo("fail\uFFFDed");
        assertThat(callback.sipReason()).isEqualTo("Busy\uFFFDHere");
    }

    @Test
    void sameHookIgnoresTheRetryFragmentTrailingSlashesAndTheCaseOfSchemeAndHost() {
        assertThat(ApplicationStatusHooks.sameHook("HTTPS://Dialer.Example.com/carrier/voice-gateway/status/#rc=5",
                "https://dialer.example.com/carrier/voice-gateway/status")).isTrue();
        assertThat(ApplicationStatusHooks.sameHook("https://dialer.example.com/carrier/voice-gateway/Status",
                "https://dialer.example.com/carrier/voice-gateway/status")).isFalse();
        assertThat(ApplicationStatusHooks.sameHook("https://other.example.com/carrier/voice-gateway/status",
                "https://dialer.example.com/carrier/voice-gateway/status")).isFalse();
    }

    private double checks(String result) {
        return registry.get("dialer.dispatcher.carrier.application.checks").tag("result", result).counter().count();
    }

    private long applicationQueries(String sid) {
        return received.stream().filter(call -> call.path().equals("/v1/Applications/" + sid)).count();
    }

    /** Placing a call fails as one that may have been placed: lost, never tried again or elsewhere. */
    private void assertPlacingIsLost() {
        assertPlacingIsLost(carrier(null, Duration.ofSeconds(5)));
    }

    private static void assertPlacingIsLost(VoiceGatewayCarrier carrier) {
        StepVerifier.create(carrier.place(command(), 1))
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
                                        .sendString(Mono.just(reply.json())).then()))
                        // jambonz refuses a call sid that is not a UUID.
                        .get("/v1/Accounts/{sid}/Calls/{callSid}", (request, response) -> {
                            received.add(new Received(request.uri(), request.requestHeaders().get("Authorization"),
                                    null, null));
                            return response.status(400).header("Content-Type", "application/json")
                                    .sendString(Mono.just("{\"msg\":\"invalid callSid\"}"));
                        })
                        .get("/v1/Applications/{sid}", (request, response) -> {
                            received.add(new Received(request.uri(), request.requestHeaders().get("Authorization"),
                                    null, null));
                            Reply reply = applications.getOrDefault(request.param("sid"), new Reply(404, "{}"));
                            return response.status(reply.status()).header("Content-Type", "application/json")
                                    .sendString(Mono.just(reply.json()));
                        }))
                .bindNow();
    }

    private VoiceGatewayCarrier carrier(String apiKey, Duration timeout) {
        return carrier(apiKey, timeout, "http://127.0.0.1:" + server.port() + "/");
    }

    private VoiceGatewayCarrier carrier(String apiKey, Duration timeout, String baseUrl) {
        return new VoiceGatewayCarrier(properties(apiKey, timeout, baseUrl, false), WebClient.create(), () -> HOOK,
                registry, hooks);
    }

    private static CarrierProperties properties(String apiKey, Duration timeout, String baseUrl, boolean notifyUrl) {
        return new CarrierProperties(baseUrl, "acc one", apiKey, "player", null, null, timeout,
                Duration.ofSeconds(60), Duration.ofHours(1), Duration.ofMinutes(5), notifyUrl, Duration.ofMinutes(10),
                null);
    }

    private long timerCount(String outcome) {
        return registry.get("dialer.dispatcher.carrier.requests").tags("carrier", "voice-gateway", "outcome", outcome)
                .timer().count();
    }

    private static CallCommand command() {
        return new CallCommand(1, "req-1", "acc-1", "+4930123456", "+4915112345678", null, "a.wav", null, 0, 0, 1,
                null, null, Map.of(), null, null, null, null, null, Instant.EPOCH);
    }

    private static CallCommand command(String flowId) {
        return new CallCommand(1, "req-1", "acc-1", "+4930123456", "+4915112345678", flowId, null, null, 0, 0, 1,
                null, null, Map.of(), null, null, null, null, null, Instant.EPOCH);
    }
}
