package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.deferred;
import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.dispatcher.attempt.AttemptLedger;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import tools.jackson.databind.JsonNode;

/**
 * A requeue of a call no carrier placed whose commit was acknowledged too late: the dispatcher ran the requeue
 * again, found the attempt requeued already, and must leave it waiting, not fail the request. The lost
 * acknowledgement is played by running the real statement twice in the requeue's transaction (the ledger bean is
 * wrapped in a spy that calls the real method, never replaces it), which is what the second run sees.
 */
class RequeueAcknowledgedLateIT extends CarrierDown {

    private static final String CALLER = "+4930777223";
    /** Requests whose next requeue is run twice, once. */
    private static final Set<String> ACKNOWLEDGED_LATE = ConcurrentHashMap.newKeySet();

    @TestConfiguration
    static class RequeueRunTwice {

        @Bean
        static BeanPostProcessor requeueRunTwice() {
            return SpiedBeans.around(AttemptLedger.class, SpiedBeans.runTwice("requeueNotPlaced",
                    invocation -> invocation.getArgument(0), ACKNOWLEDGED_LATE));
        }
    }

    @Test
    void aRequeueRunAgainAfterItsCommitLeavesTheCallWaitingAndItIsDialledOnceTheCarrierIsBack() {
        String requestId = "late-" + UUID.randomUUID();
        ACKNOWLEDGED_LATE.add(requestId);

        send(CALLER, requestId);

        // The run that found it requeued told nothing; the next wait, after the requeued call's next try, is told.
        await().atMost(WAIT).until(() -> !ACKNOWLEDGED_LATE.contains(requestId)
                && (!deferred(fixture.eventsFor(requestId)).isEmpty() || !finals(fixture.eventsFor(requestId))
                .isEmpty()));
        assertThat(finals(fixture.eventsFor(requestId))).as("nobody was called: the call waits").isEmpty();

        carrierComesBack();
        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("answered"));
        assertThat(fixture.callsFor(requestId)).singleElement()
                .satisfies(call -> assertThat(call.tag()).containsEntry("attempt", 1));
        assertThat(attempts(requestId)).containsExactly("1:completed");
    }
}
