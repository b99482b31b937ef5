package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.deferred;
import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.text;
import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.kafka.Topics;
import dev.dialer.infra.Infrastructure;
import dev.dialer.simulator.CarrierSimulator;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * A carrier that has no room for a call for longer than {@code carrier-unavailable-max-wait}: the capacity rejections
 * requeue the call under the same attempt until then, and then the request ends {@code exhausted} with
 * {@code error.code=capacity}, instead of being requeued for ever.
 */
class CapacityWaitIT extends CarrierDown {

    private static final String CALLER = "+4930777444";

    @DynamicPropertySource
    static void shortWait(DynamicPropertyRegistry registry) throws Exception {
        // A group of its own, starting where the topics end: the shared group's backlog of what earlier test classes
        // left on the broker (slow caller IDs' commands among them) is not this test's to work through first.
        String group = "dialer-dispatcher-capacity-" + UUID.randomUUID();
        TestKafka.startGroupAtEnd(Infrastructure.shared().kafkaBootstrapServers(), group, Topics.CALL_COMMANDS,
                Topics.CARRIER_CALLBACKS);
        registry.add("dialer.dispatcher.commands.group-id", () -> group);
        registry.add("dialer.dispatcher.retry.carrier-unavailable-max-wait", () -> "PT5S");
        registry.add("dialer.dispatcher.pacing.capacity-requeue-delay", () -> "PT1S");
        // Calls other test classes left in flight in the shared database hold trunk slots once counted, and the
        // rejections halve the trunk's limit from that count: let those slots lapse at once, as they would in an hour.
        registry.add("dialer.dispatcher.pacing.slot-time-limit", () -> "PT10S");
    }

    @Test
    void aCallTheCarrierHasNoRoomForEndsExhaustedOnceItHasWaitedTheLongestWait() {
        CarrierSimulator simulator = carrierComesBack();
        String requestId = "cap-" + UUID.randomUUID();
        Instant sent = Instant.now();
        // The simulator rejects a number ending in 3 for capacity (503 "Max Account Calls In Progress") every time.
        fixture.produce(CALLER, """
                {"version":1,"request_id":"%s","account_id":"acc-down","caller_id":"%s","to":"+4915112345673",
                 "audio":"welcome.wav","created_at":"%s"}""".formatted(requestId, CALLER, sent));

        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(deferred(events)).hasSizeGreaterThanOrEqualTo(2)
                .allSatisfy(event -> assertThat(text(event, "reason")).isEqualTo("capacity"));
        assertThat(finals(events)).singleElement().satisfies(last -> {
            assertThat(text(last, "status")).isEqualTo("exhausted");
            assertThat(last.get("error").get("code").stringValue()).isEqualTo("capacity");
            assertThat(Instant.parse(text(last, "occurred_at"))).isAfter(sent.plus(Duration.ofSeconds(5)));
        });
        assertThat(simulator.calls().stream().filter(call -> requestId.equals(call.tag().get("request_id"))))
                .hasSizeGreaterThanOrEqualTo(2)
                .allSatisfy(call -> assertThat(call.tag()).containsEntry("attempt", 1));
        assertThat(attempts(requestId)).containsExactly("1:failed");
    }
}
