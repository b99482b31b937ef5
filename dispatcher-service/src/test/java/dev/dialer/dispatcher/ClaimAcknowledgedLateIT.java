package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.deferred;
import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.event.CallEvents;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

/**
 * Claims whose commit was acknowledged too late (the connection lost once the server had committed): the handling
 * runs the claim again, finds the attempt claimed, and must dial its own claim once, not take it for another copy's
 * and leave the call undialled until the watchdog fails it an hour later. The lost acknowledgement is played by
 * running the real statement twice (the beans are wrapped in spies that call the real method, never replace it),
 * which is what the second run sees: the attempt's record with its first claim, and later the claim of the attempt
 * dialled again under its number once the carrier, down at first, took no call.
 */
class ClaimAcknowledgedLateIT extends CarrierDown {

    private static final String CALLER = "+4930777224";
    /** Requests whose next change of state with its event is run twice, once. */
    private static final Set<String> RECORDED_LATE = ConcurrentHashMap.newKeySet();
    /** Requests whose next claim of a recorded attempt is run twice, once. */
    private static final Set<String> CLAIMED_LATE = ConcurrentHashMap.newKeySet();

    @TestConfiguration
    static class ClaimsRunTwice {

        @Bean
        static BeanPostProcessor recordRunTwice() {
            return SpiedBeans.around(CallEvents.class, SpiedBeans.runTwice("emitOn",
                    invocation -> ((CallCommand) invocation.getArgument(0)).requestId(), RECORDED_LATE));
        }

        @Bean
        static BeanPostProcessor claimRunTwice() {
            return SpiedBeans.around(AttemptLedger.class, SpiedBeans.runTwice("claimDial",
                    invocation -> invocation.getArgument(0), CLAIMED_LATE));
        }
    }

    @Test
    void aClaimRunAgainAfterItsCommitIsDialledOnceAsItsOwn() {
        String requestId = "claim-late-" + UUID.randomUUID();
        RECORDED_LATE.add(requestId);
        CLAIMED_LATE.add(requestId);

        send(CALLER, requestId);

        // The attempt, recorded and claimed by one statement run twice, was dialled: the carrier took no call, and
        // the attempt waits under its number. Claimed again by a claim run twice, it is dialled again.
        await().atMost(WAIT).until(() -> !deferred(fixture.eventsFor(requestId)).isEmpty());
        await().atMost(WAIT).until(() -> !CLAIMED_LATE.contains(requestId));
        assertThat(RECORDED_LATE).doesNotContain(requestId);

        carrierComesBack();
        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(finals(events)).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("answered"));
        assertThat(fixture.callsFor(requestId)).singleElement()
                .satisfies(call -> assertThat(call.tag()).containsEntry("attempt", 1));
        assertThat(attempts(requestId)).containsExactly("1:completed");
    }
}
