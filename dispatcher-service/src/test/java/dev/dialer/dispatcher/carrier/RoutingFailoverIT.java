package dev.dialer.dispatcher.carrier;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.carrier.routing.CarrierRoutingProperties;
import dev.dialer.dispatcher.carrier.routing.RoutingCarriers;
import dev.dialer.simulator.CarrierSimulator;
import dev.dialer.simulator.SimulatorSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.test.StepVerifier;

/**
 * Routing over real HTTP peers: a carrier that is down (a closed port) or answers 5xx is passed over for the next;
 * a carrier that placed the call, whatever the callee then does, or refused the request (4xx), is not.
 */
class RoutingFailoverIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String HOOK = "http://127.0.0.1:9/carrier/voice-gateway/status";

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final CarrierSimulator primary = CarrierSimulator.start(SimulatorSettings.defaults()
            .withRingTime(Duration.ofMillis(50)).withTalkTime(Duration.ofMillis(50)));
    private final CarrierSimulator backup = CarrierSimulator.start(SimulatorSettings.defaults()
            .withRingTime(Duration.ofMillis(50)).withTalkTime(Duration.ofMillis(50)));
    private DisposableServer failing;

    @AfterEach
    void stop() {
        primary.close();
        backup.close();
        if (failing != null) {
            failing.disposeNow();
        }
    }

    @Test
    void callGoesToTheNextCarrierWhenTheFirstIsDown() throws Exception {
        Carrier carrier = routing(Map.of("down", "http://127.0.0.1:" + closedPort(), "backup", backup.baseUrl()),
                List.of("down", "backup"));

        StepVerifier.create(carrier.place(command("req-down", "+4915112345678"), 1))
                .assertNext(placed -> {
                    assertThat(placed.sid()).isNotBlank();
                    assertThat(placed.carrier()).as("the trunk that carries it").isEqualTo("backup");
                })
                .expectComplete()
                .verify(WAIT);

        assertThat(backup.calls()).singleElement()
                .satisfies(call -> assertThat(call.tag().get("request_id")).isEqualTo("req-down"));
        assertThat(registry.counter("dialer.dispatcher.carrier.failovers", "from", "down", "to", "backup").count())
                .isEqualTo(1);
    }

    @Test
    void callGoesToTheNextCarrierWhenTheFirstAnswers503() {
        failing = HttpServer.create().host("127.0.0.1").port(0)
                .handle((request, response) -> response.status(503).sendString(reactor.core.publisher.Mono.just(
                        "{\"msg\":\"service unavailable\"}")))
                .bindNow();
        Carrier carrier = routing(Map.of("broken", "http://127.0.0.1:" + failing.port(), "backup", backup.baseUrl()),
                List.of("broken", "backup"));

        StepVerifier.create(carrier.place(command("req-5xx", "+4915112345678"), 1))
                .expectNextCount(1)
                .expectComplete()
                .verify(WAIT);

        assertThat(backup.calls()).hasSize(1);
    }

    @Test
    void callIsNeverTriedOnAnotherCarrierWhenTheFirstMayHavePlacedIt() {
        // jambonz answers 500 when its feature server did not confirm the call: the INVITE may have gone out.
        failing = HttpServer.create().host("127.0.0.1").port(0)
                .handle((request, response) -> response.status(500).sendString(reactor.core.publisher.Mono.just(
                        "{\"msg\":\"feature server did not answer\"}")))
                .bindNow();
        Carrier carrier = routing(Map.of("broken", "http://127.0.0.1:" + failing.port(), "backup", backup.baseUrl()),
                List.of("broken", "backup"));

        StepVerifier.create(carrier.place(command("req-500", "+4915112345678"), 1))
                .expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(CarrierException.class,
                        failure -> {
                            assertThat(failure.httpStatus()).isEqualTo(500);
                            assertThat(failure.mayHaveBeenPlaced()).isTrue();
                        }))
                .verify(WAIT);

        assertThat(backup.calls()).isEmpty();
    }

    @Test
    void busyCalleeIsNeverTriedOnAnotherCarrier() {
        Carrier carrier = routing(Map.of("primary", primary.baseUrl(), "backup", backup.baseUrl()),
                List.of("primary", "backup"));

        // The simulator answers numbers ending in 0 busy: the call was placed, the callee said no.
        StepVerifier.create(carrier.place(command("req-busy", "+4915112345670"), 1))
                .expectNextCount(1)
                .expectComplete()
                .verify(WAIT);

        assertThat(primary.calls()).hasSize(1);
        assertThat(backup.calls()).isEmpty();
    }

    @Test
    void requestTheCarrierRefusesIsNotTriedOnAnotherCarrier() {
        failing = HttpServer.create().host("127.0.0.1").port(0)
                .handle((request, response) -> response.status(400).sendString(reactor.core.publisher.Mono.just(
                        "{\"errors\":[\"bad to\"]}")))
                .bindNow();
        Carrier carrier = routing(Map.of("strict", "http://127.0.0.1:" + failing.port(), "backup", backup.baseUrl()),
                List.of("strict", "backup"));

        StepVerifier.create(carrier.place(command("req-400", "+4915112345678"), 1))
                .expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(CarrierException.class,
                        failure -> assertThat(failure.httpStatus()).isEqualTo(400)))
                .verify(WAIT);

        assertThat(backup.calls()).isEmpty();
    }

    private Carrier routing(Map<String, String> endpoints, List<String> order) {
        Map<String, CarrierRoutingProperties.Endpoint> carriers = new LinkedHashMap<>();
        Map<String, Carrier> built = new LinkedHashMap<>();
        CarrierProperties base = new CarrierProperties("http://127.0.0.1:1", "dialer", null, "player", null, null,
                Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofMinutes(5), false,
                Duration.ofMinutes(10), null);
        ApplicationStatusHooks applications = new ApplicationStatusHooks(base, Clock.systemUTC(), registry);
        for (String name : order) {
            carriers.put(name,
                    new CarrierRoutingProperties.Endpoint(endpoints.get(name), null, null, null, null, null));
            built.put(name, new VoiceGatewayCarrier(name, base.withEndpoint(endpoints.get(name), null, null, null),
                    WebClient.create(), () -> HOOK, registry, applications));
        }
        CarrierRoutingProperties properties = new CarrierRoutingProperties(carriers, order, Map.of(), Map.of(),
                new CarrierRoutingProperties.Guard(Duration.ofSeconds(5), 10, 50, 10, Duration.ofSeconds(30),
                        Duration.ZERO));
        return RoutingCarriers.of(properties, built, registry);
    }

    private static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static CallCommand command(String requestId, String to) {
        return new CallCommand(1, requestId, "acc-1", "+4930123456", to, null, "welcome.wav", null, 0, 3, 1, null,
                null, null, null, null, null, null, null, Instant.now());
    }
}
