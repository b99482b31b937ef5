package dev.dialer.dispatcher.pacing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.dispatcher.DispatcherFixture;
import dev.dialer.simulator.CarrierSimulator;
import dev.dialer.simulator.ReceivedCall;
import dev.dialer.simulator.SimulatorSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A Voice Gateway that goes silent with its trunk full (decision 0165): {@code silent}, the route's first carrier,
 * takes two calls at a time and hangs while both talk, so no create-call request goes to it and no callback comes
 * from it; {@code backup}, the fixture's simulator, is the route's second. The calls that then wait for a slot of
 * {@code silent}'s trunk are dialled through {@code backup} once the probes of the idle carrier have opened its
 * breaker, not an hour later when the two slots lapse.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=dispatcher-service",
        "dialer.dispatcher.carrier.routing.order=silent,backup",
        "dialer.dispatcher.pacing.trunks.silent.concurrency=2",
        "dialer.dispatcher.carrier.request-timeout=PT1S",
        "dialer.dispatcher.carrier.routing.guard.minimum-calls=2",
        "dialer.dispatcher.carrier.routing.guard.probe-idle-after=PT0.5S"})
@DirtiesContext
class SilentCarrierIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final SimulatorSettings CALLS = SimulatorSettings.defaults().withWebhookSecret("s3cret")
            .withRingTime(Duration.ofMillis(100)).withTalkTime(Duration.ofMinutes(10));

    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, CALLS);

    private static CarrierSimulator silent;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        fixture.register(registry);
        silent = CarrierSimulator.start(CALLS);
        registry.add("dialer.dispatcher.carrier.routing.carriers.silent.base-url", silent::baseUrl);
        registry.add("dialer.dispatcher.carrier.routing.carriers.backup.base-url", fixture.simulator()::baseUrl);
    }

    @AfterAll
    static void stopSilent() {
        silent.close();
    }

    @Autowired
    Lanes lanes;

    @Autowired
    MeterRegistry meters;

    @Test
    void callsWaitingForTheTrunkOfACarrierGoneSilentAreDialledThroughTheNextCarrierOfTheirRoute() {
        // Numbers the simulator answers (their last digit): the calls talk for ten minutes.
        List<String> talking = List.of(send("+4930555201", "+4915112340005"),
                send("+4930555202", "+4915112340006"));
        await().atMost(WAIT).until(() -> silent.calls().size() == 2
                && lanes.trunks().gate("silent").inFlight() == 2);
        assertThat(silent.calls()).extracting(call -> call.tag().get("request_id"))
                .containsExactlyInAnyOrderElementsOf(talking);
        // Hung: it answers no request, on the connections already open too, and the two calls' ends are never posted.
        silent.hang();

        List<String> waiting = List.of(send("+4930555203", "+4915112340007"),
                send("+4930555204", "+4915112340008"), send("+4930555205", "+4915112340009"));

        await().atMost(WAIT).untilAsserted(() -> assertThat(fixture.simulator().calls())
                .extracting(call -> call.tag().get("request_id"))
                .containsExactlyInAnyOrderElementsOf(waiting));
        assertThat(silent.calls()).hasSize(2);
        assertThat(fixture.simulator().calls()).extracting(ReceivedCall::tag)
                .allSatisfy(tag -> assertThat(tag).containsEntry("carrier", "backup"));
        assertThat(count("dialer.dispatcher.carrier.probes", "carrier", "silent", "outcome", "failed"))
                .as("the idle carrier's probes failed").isGreaterThanOrEqualTo(2);
        assertThat(count("dialer.dispatcher.trunk.waiting.sent.away", "trunk", "silent"))
                .as("the calls queued at its trunk asked their route again").isEqualTo(3);
        // The two calls it has still hold its slots: nothing says they ended.
        assertThat(lanes.trunks().gate("silent").inFlight()).isEqualTo(2);
        assertThat(lanes.trunks().gate("silent").waiting()).isZero();
    }

    private double count(String name, String... tags) {
        Counter counter = meters.find(name).tags(tags).counter();
        return counter == null ? 0 : counter.count();
    }

    private static String send(String callerId, String to) {
        String requestId = "silent-" + UUID.randomUUID();
        CallCommand command = new CallCommand(CallCommand.VERSION, requestId, "acc-silent", callerId, to, null,
                "welcome.wav", null, 0, 0, 1, null, null, Map.of(), null, null, null, null, Map.of(), Instant.now());
        fixture.produce(callerId, Contract.toJson(command));
        return requestId;
    }
}
