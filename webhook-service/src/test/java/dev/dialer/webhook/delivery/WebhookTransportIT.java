package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.hook.AllowList;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.ByteBufFlux;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.test.StepVerifier;

/** One attempt against a real HTTP server: what counts as success, and the bounds on every attempt. */
class WebhookTransportIT {

    private static final byte[] BODY = "{\"event_id\":\"ev-1\"}".getBytes(StandardCharsets.UTF_8);
    private static final List<String> hits = new CopyOnWriteArrayList<>();
    private static final List<String> contentTypes = new CopyOnWriteArrayList<>();
    private static final List<String> bodies = new CopyOnWriteArrayList<>();
    private static DisposableServer server;
    private static HttpWebhookTransport transport;

    @BeforeAll
    static void start() {
        server = HttpServer.create().host("127.0.0.1").port(0)
                .route(routes -> routes
                        .post("/ok", (request, response) -> request.receive().aggregate().asString()
                                .flatMap(body -> {
                                    hits.add("ok");
                                    bodies.add(body);
                                    contentTypes.add(request.requestHeaders().get("Content-Type"));
                                    return response.status(204).send().then();
                                }))
                        .post("/moved", (request, response) -> {
                            hits.add("moved");
                            return response.status(302).header("Location", url("/elsewhere")).send();
                        })
                        .route(request -> request.uri().startsWith("/elsewhere"), (request, response) -> {
                            hits.add("elsewhere");
                            return response.status(200).send();
                        })
                        .post("/silent", (request, response) -> Mono.never())
                        .post("/busy", (request, response) -> response.status(503).header("Retry-After", "7")
                                .sendString(Mono.just("try later")))
                        .post("/nul", (request, response) -> response.status(400)
                                .sendByteArray(Mono.just("bad\0input".getBytes(StandardCharsets.UTF_8))))
                        // The answer's status and start at once, the rest of it (here nothing) 10 s later.
                        .post("/late", (request, response) -> response.status(200)
                                .send(ByteBufFlux.fromString(Flux.concat(Mono.just("ok"),
                                        Mono.delay(Duration.ofSeconds(10)).then(Mono.empty()))), buffer -> true))
                        .post("/big", (request, response) -> response.status(200)
                                .send(ByteBufFlux.fromString(Flux.range(0, 4096).map(i -> "x".repeat(1024))))))
                .bindNow();
        // Roomy enough for a machine under heavy load; the silent endpoint's test waits for it once.
        transport = new HttpWebhookTransport(Duration.ofSeconds(2), Duration.ofSeconds(3));
    }

    @AfterAll
    static void stop() {
        transport.close();
        server.disposeNow();
    }

    @Test
    void a2xxAnswerIsSuccessAndTheBodyIsSentAsJsonUnchanged() {
        StepVerifier.create(transport.post(url("/ok"), Map.of("webhook-id", "ev-1"), BODY))
                .assertNext(result -> {
                    assertThat(result.succeeded()).isTrue();
                    assertThat(result.statusCode()).isEqualTo(204);
                })
                .expectComplete()
                .verify(Duration.ofSeconds(10));

        assertThat(bodies).contains(new String(BODY, StandardCharsets.UTF_8));
        assertThat(contentTypes).contains("application/json");
    }

    @Test
    void aRedirectIsAFailureAndIsNotFollowed() {
        StepVerifier.create(transport.post(url("/moved"), Map.of(), BODY))
                .assertNext(result -> {
                    assertThat(result.reason()).isEqualTo(Reason.HTTP_STATUS);
                    assertThat(result.statusCode()).isEqualTo(302);
                })
                .expectComplete()
                .verify(Duration.ofSeconds(10));

        assertThat(hits).contains("moved").doesNotContain("elsewhere");
    }

    @Test
    void anEndpointThatNeverAnswersTimesOutAfterTheTotalTimeout() {
        StepVerifier.create(transport.post(url("/silent"), Map.of(), BODY))
                .assertNext(result -> {
                    assertThat(result.reason()).isEqualTo(Reason.TIMEOUT);
                    assertThat(result.statusCode()).isNull();
                    assertThat(result.latency()).isBetween(Duration.ofMillis(2900), Duration.ofSeconds(8));
                })
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void onlyTheStartOfALargeAnswerIsReadAndKept() {
        // Its own transport with a roomy timeout: this is about the read bound, not about how fast a busy host is.
        try (HttpWebhookTransport roomy = new HttpWebhookTransport(Duration.ofSeconds(2), Duration.ofSeconds(8), 1024,
                null)) {
            StepVerifier.create(roomy.post(url("/big"), Map.of(), BODY))
                    .assertNext(result -> {
                        assertThat(result.succeeded()).isTrue();
                        assertThat(result.responseBody()).hasSize(1024).matches("x+");
                    })
                    .expectComplete()
                    .verify(Duration.ofSeconds(10));
        }
    }

    @Test
    void a2xxWhoseBodyEndsLateIsSuccessWithTheStartOfItsBody() {
        StepVerifier.create(transport.post(url("/late"), Map.of(), BODY))
                .assertNext(result -> {
                    assertThat(result.reason()).isEqualTo(Reason.OK);
                    assertThat(result.statusCode()).isEqualTo(200);
                    assertThat(result.responseBody()).isEqualTo("ok");
                })
                .expectComplete()
                .verify(Duration.ofSeconds(8));
    }

    @Test
    void withNoBodyToKeepNothingOfTheAnswerIsReadButItsStatus() {
        try (HttpWebhookTransport statusOnly = new HttpWebhookTransport(Duration.ofSeconds(2), Duration.ofSeconds(3),
                0, null)) {
            StepVerifier.create(statusOnly.post(url("/late"), Map.of(), BODY))
                    .assertNext(result -> {
                        assertThat(result.reason()).isEqualTo(Reason.OK);
                        assertThat(result.statusCode()).isEqualTo(200);
                        assertThat(result.latency()).isLessThan(Duration.ofSeconds(3));
                    })
                    .expectComplete()
                    .verify(Duration.ofSeconds(8));
        }
    }

    @Test
    void theAnswersRetryAfterAndBodyAreReported() {
        StepVerifier.create(transport.post(url("/busy"), Map.of(), BODY))
                .assertNext(result -> {
                    assertThat(result.statusCode()).isEqualTo(503);
                    assertThat(result.retryAfter()).isEqualTo(Duration.ofSeconds(7));
                    assertThat(result.responseBody()).isEqualTo("try later");
                })
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void aNulByteInTheAnswerIsReportedAsRead() {
        // DeliveryAttempt makes it storable on the way to the delivery log (WebhookDeliveryIT).
        StepVerifier.create(transport.post(url("/nul"), Map.of(), BODY))
                .assertNext(result -> {
                    assertThat(result.statusCode()).isEqualTo(400);
                    assertThat(result.responseBody()).isEqualTo("bad\u0000input");
                })
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void aHostThatResolvesToAForbiddenAddressWhenConnectingIsNotCalled() {
        // DNS rebinding: whatever the check before the try saw, at connect time the host points at loopback.
        TargetGuard guard = FakeDns.guard(new AllowList(List.of()),
                host -> new InetAddress[] {InetAddress.getLoopbackAddress()});
        int hitsBefore = hits.size();
        try (HttpWebhookTransport guarded = new HttpWebhookTransport(Duration.ofSeconds(2), Duration.ofSeconds(5),
                1024, new GuardedAddressResolverGroup(guard))) {
            StepVerifier.create(guarded.post("http://rebound.test:" + server.port() + "/ok", Map.of(), BODY))
                    .assertNext(result -> assertThat(result.reason()).isEqualTo(Reason.FORBIDDEN_TARGET))
                    .expectComplete()
                    .verify(Duration.ofSeconds(10));
        }
        assertThat(hits).hasSize(hitsBefore);
    }

    @Test
    void theClientConnectsToTheAddressTheGuardResolvedAndChecked() {
        // hooks.test exists in no DNS: the try can only arrive through the guard's own resolution.
        TargetGuard guard = FakeDns.guard(new AllowList(List.of("127.0.0.1")),
                host -> new InetAddress[] {InetAddress.getByName("127.0.0.1")});
        try (HttpWebhookTransport guarded = new HttpWebhookTransport(Duration.ofSeconds(2), Duration.ofSeconds(5),
                1024, new GuardedAddressResolverGroup(guard))) {
            StepVerifier.create(guarded.post("http://hooks.test:" + server.port() + "/ok", Map.of(), BODY))
                    .assertNext(result -> assertThat(result.succeeded()).isTrue())
                    .expectComplete()
                    .verify(Duration.ofSeconds(10));
        }
    }

    @Test
    void aRefusedConnectionIsAConnectionFailure() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }

        StepVerifier.create(transport.post("http://127.0.0.1:" + closedPort + "/hook", Map.of(), BODY))
                .assertNext(result -> {
                    assertThat(result.reason()).isEqualTo(Reason.CONNECTION);
                    assertThat(result.error()).isNotBlank();
                })
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }

    @ParameterizedTest
    @CsvSource({"200, OK", "410, GONE"})
    void anAnswerWhoseBodyIsCutOffIsStillItsStatus(int status, Reason reason) throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            // The status and headers, the start of a body announced longer, then the connection closes.
            Thread peer = new Thread(() -> {
                try (Socket connection = socket.accept()) {
                    readRequest(connection.getInputStream());
                    connection.getOutputStream().write(("HTTP/1.1 " + status + " Whatever\r\nContent-Length: 100\r\n"
                            + "Content-Type: text/plain\r\n\r\npartial").getBytes(StandardCharsets.US_ASCII));
                    connection.getOutputStream().flush();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            peer.start();

            StepVerifier.create(transport.post("http://127.0.0.1:" + socket.getLocalPort() + "/hook", Map.of(), BODY))
                    .assertNext(result -> {
                        assertThat(result.statusCode()).isEqualTo(status);
                        assertThat(result.reason()).isEqualTo(reason);
                    })
                    .expectComplete()
                    .verify(Duration.ofSeconds(10));
            peer.join(10_000);
        }
    }

    /**
     * Interim answers (102 Processing, 103 Early Hints) come before the real one (RFC 9110 §15.2): the try's outcome is
     * the final answer's, not a failure for an interim status, which would send the event again and count against the
     * endpoint's health.
     */
    @ParameterizedTest
    @CsvSource({"102 Processing", "103 Early Hints"})
    void interimAnswersAreSkippedAndTheFinalOneDecides(String interim) throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread peer = new Thread(() -> {
                try (Socket connection = socket.accept()) {
                    readRequest(connection.getInputStream());
                    OutputStream out = connection.getOutputStream();
                    out.write(("HTTP/1.1 " + interim + "\r\nLink: </style.css>; rel=preload\r\n\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    Thread.sleep(300);
                    out.write(("HTTP/1.1 " + interim + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            peer.start();

            StepVerifier.create(transport.post("http://127.0.0.1:" + socket.getLocalPort() + "/hook", Map.of(), BODY))
                    .assertNext(result -> {
                        assertThat(result.statusCode()).isEqualTo(200);
                        assertThat(result.reason()).isEqualTo(Reason.OK);
                        assertThat(result.responseBody()).isEqualTo("ok");
                    })
                    .expectComplete()
                    .verify(Duration.ofSeconds(10));
            peer.join(10_000);
        }
    }

    /** Reads a request's head and its Content-Length body. */
    private static void readRequest(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int next = in.read();
            if (next < 0) {
                return;
            }
            head.append((char) next);
        }
        Matcher length = Pattern.compile("(?i)content-length:\\s*(\\d+)")
                .matcher(head);
        if (length.find()) {
            in.readNBytes(Integer.parseInt(length.group(1)));
        }
    }

    @Test
    void aUrlThatIsNotAbsoluteHttpIsAnInvalidTarget() {
        StepVerifier.create(transport.post("ftp://example.com/hook", Map.of(), BODY))
                .assertNext(result -> assertThat(result.reason()).isEqualTo(Reason.INVALID_TARGET))
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void aUrlThatCannotBeReadIsAnInvalidTargetWhoseReasonDoesNotRepeatIt() {
        StepVerifier.create(transport.post("https://hooks.example.com/services/T0/B0/s3cr3t token", Map.of(), BODY))
                .assertNext(result -> {
                    assertThat(result.reason()).isEqualTo(Reason.INVALID_TARGET);
                    assertThat(result.error()).startsWith("invalid URL: not a URL (")
                            .doesNotContain("s3cr3t").doesNotContain("hooks.example.com");
                })
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }

    private static String url(String path) {
        return "http://127.0.0.1:" + server.port() + path;
    }
}
