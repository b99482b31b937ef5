package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.deferred;
import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DncEntry;
import dev.dialer.common.kafka.Topics;
import dev.dialer.simulator.CarrierSimulator;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A call that waits because no carrier took it meets the dial-time policy again when its wait ends, as every waiting
 * call does: cancelled during the wait, it ends {@code canceled} at once; its number put on the DNC list during the
 * wait, it ends {@code blocked} when it comes back. Neither is dialled once the carrier is back.
 */
class WaitingCallPolicyIT extends CarrierDown {

    private static final String CALLER = "+4930777333";
    private static final String ACCOUNT = "acc-waiting";

    @Test
    void aCallWaitingForACarrierIsNeverDialledAfterACancelOrADncEntryThatCameDuringItsWait() {
        String cancelled = "wait-" + UUID.randomUUID();
        String listed = "wait-" + UUID.randomUUID();
        String listedNumber = "+4915112340001";
        command(cancelled, "+4915112340000");
        command(listed, listedNumber);
        // Both wait: nothing listens where the carrier should be.
        await().atMost(WAIT).until(() -> !deferred(fixture.eventsFor(cancelled)).isEmpty()
                && !deferred(fixture.eventsFor(listed)).isEmpty());

        publish(Topics.CALL_CONTROL, CallControl.requestKey(cancelled), new CallControl(CallControl.VERSION,
                UUID.randomUUID().toString(), CallControl.Action.CANCEL, CallControl.Scope.REQUEST, ACCOUNT, cancelled,
                null, Instant.now()));
        publish(Topics.DNC, DncEntry.key(ACCOUNT, listedNumber),
                new DncEntry(DncEntry.VERSION, ACCOUNT, listedNumber, "asked", Instant.now()));

        // Nobody is being called: the cancel ends the request at once, not after a wait for a call to hang up.
        List<JsonNode> cancelledEvents = fixture.awaitFinal(cancelled);
        assertThat(finals(cancelledEvents)).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("canceled"));
        List<JsonNode> listedEvents = fixture.awaitFinal(listed);
        assertThat(finals(listedEvents)).singleElement().satisfies(last -> {
            assertThat(text(last, "status")).isEqualTo("blocked");
            assertThat(text(last, "reason")).isEqualTo("dnc");
        });

        // The carrier comes back while their schedule rows would still be coming due: neither is dialled.
        CarrierSimulator simulator = carrierComesBack();
        String control = "wait-" + UUID.randomUUID();
        command(control, "+4915112340002");
        fixture.awaitFinal(control);
        assertThat(simulator.calls()).extracting(call -> call.tag().get("request_id"))
                .contains(control).doesNotContain(cancelled, listed);
        assertThat(finals(fixture.eventsFor(cancelled))).hasSize(1);
        assertThat(finals(fixture.eventsFor(listed))).hasSize(1);
    }

    private static void command(String requestId, String to) {
        fixture.produce(CALLER, """
                {"version":1,"request_id":"%s","account_id":"%s","caller_id":"%s","to":"%s",
                 "audio":"welcome.wav","created_at":"%s"}""".formatted(requestId, ACCOUNT, CALLER, to, Instant.now()));
    }

    private static void publish(String topic, String key, Object value) {
        fixture.send(new ProducerRecord<>(topic, key, Contract.toJson(value)));
    }
}
