package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.text;
import static dev.dialer.dispatcher.DispatcherFixture.shortCalls;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.pacing.Lanes;
import dev.dialer.dispatcher.pacing.TrunkGate;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.mockito.Mockito;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;

/**
 * The watchdog's {@code status_timeout} whose statement commits but whose answer is lost: tried again, the statement
 * is refused (the attempt has ended), and the attempt's trunk slot must still be freed, since no callback will come.
 * The lost answer is played by a spy on the events bean that runs the real statement, then reports a connection
 * failure once (it never replaces the statement).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=dispatcher-service")
@DirtiesContext
class WatchdogAcknowledgedLateIT {

    private static final String CALLER = "+4930777001";
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** Requests whose next attempt end is reported lost after it committed, once. */
    private static final Set<String> ANSWER_LOST = ConcurrentHashMap.newKeySet();

    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, shortCalls().withLostCallbacks(1.0));

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        fixture.register(registry);
        // Quiet after 2 s without news: ring timeout 1 s + time limit 1 s + no margin.
        registry.add("dialer.dispatcher.carrier.ring-timeout", () -> "PT1S");
        registry.add("dialer.dispatcher.carrier.time-limit", () -> "PT1S");
        registry.add("dialer.dispatcher.watchdog.margin", () -> "PT0S");
        registry.add("dialer.dispatcher.watchdog.poll-interval", () -> "PT0.5S");
    }

    @TestConfiguration
    static class AnswerLostOnce {

        @Bean
        static BeanPostProcessor answerLostOnce() {
            return new BeanPostProcessor() {
                @Override
                public Object postProcessAfterInitialization(Object bean, String name) {
                    if (!(bean instanceof CallEvents events)) {
                        return bean;
                    }
                    return Mockito.mock(CallEvents.class, Mockito.withSettings().spiedInstance(events).stubOnly()
                            .defaultAnswer(invocation -> {
                                Object result = invocation.callRealMethod();
                                if (invocation.getMethod().getName().equals("endOn")
                                        && invocation.getArgument(0) instanceof CallCommand command
                                        && ANSWER_LOST.contains(command.requestId())) {
                                    return Mono.defer(() -> ANSWER_LOST.remove(command.requestId())
                                            ? ((Mono<?>) result).then(Mono.error(
                                                    new TransientDataAccessResourceException("connection lost")))
                                            : (Mono<?>) result);
                                }
                                return result;
                            }));
                }
            };
        }
    }

    @Autowired
    AttemptLedger ledger;

    @Autowired
    MeterRegistry meters;

    @Autowired
    Lanes lanes;

    @Test
    void aStatusTimeoutCommittedButUnacknowledgedStillFreesItsSlot() {
        String requestId = "wd-late-" + UUID.randomUUID();
        CallCommand command = Contract.read("""
                {"version":1,"request_id":"%s","account_id":"acc-wd","caller_id":"%s","to":"+4915100000004",
                 "audio":"welcome.wav","campaign":"wd","created_at":"%s"}""".formatted(requestId, CALLER,
                Instant.now()).getBytes(), CallCommand.class);
        ANSWER_LOST.add(requestId);
        // As after a create-call request that timed out: recorded, the carrier asked, no call id; its slot held. Calls
        // counted when the dispatcher started (those of earlier tests) end first, so that the count moves for this one.
        await().atMost(WAIT).until(() -> inFlight() == 0.0);
        double inFlightBefore = inFlight();
        lanes.trunk().countingStarts();
        assertThat(lanes.trunk().holdCounted(List.of(new TrunkGate.CountedCall(requestId + "#1", 0, 0)))).isEqualTo(1);
        ledger.record(command).then(ledger.markCarrierAsked(requestId, 1)).block(WAIT);

        List<JsonNode> events = fixture.awaitFinal(requestId);

        assertThat(ANSWER_LOST).as("the answer was lost once").doesNotContain(requestId);
        assertThat(finals(events)).singleElement().satisfies(last -> {
            assertThat(text(last, "status")).isEqualTo("failed");
            assertThat(last.get("error").get("code").stringValue()).isEqualTo("status_timeout");
        });
        await().atMost(WAIT).untilAsserted(() -> assertThat(inFlight())
                .as("no callback will ever free its slot: the watchdog does").isEqualTo(inFlightBefore));
    }

    private double inFlight() {
        return meters.get("dialer.dispatcher.trunk.in.flight").gauge().value();
    }
}
