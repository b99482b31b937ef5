package dev.dialer.dispatcher;

import static dev.dialer.dispatcher.CallEventsJson.deferred;
import static dev.dialer.dispatcher.CallEventsJson.finals;
import static dev.dialer.dispatcher.CallEventsJson.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.simulator.CarrierSimulator;
import dev.dialer.simulator.ReceivedCall;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A carrier outage long enough to open its breaker: the lanes hold their calls instead of dialling each into the
 * open breaker and requeueing it, and dial each once when the carrier is back. Against a port where nothing listens,
 * then the real simulator started there.
 */
class CarrierOutageIT extends CarrierDown {

    private static final String CALLER = "+4930777333";
    private static final int CALLS = 30;

    @Autowired
    MeterRegistry registry;

    @DynamicPropertySource
    static void breaker(DynamicPropertyRegistry registry) {
        // The breaker opens after two refused requests, and lets three probe every 3 s.
        registry.add("dialer.dispatcher.carrier.routing.guard.minimum-calls", () -> "2");
        registry.add("dialer.dispatcher.carrier.routing.guard.open-for", () -> "PT3S");
    }

    @Test
    void callsWaitInTheirLaneWhileTheBreakerIsOpenAndAreEachDialledOnceWhenTheCarrierIsBack() throws Exception {
        String run = "co-" + UUID.randomUUID() + "-";
        List<String> requests = new ArrayList<>();
        for (int i = 0; i < CALLS; i++) {
            requests.add(run + i);
            send(CALLER, run + i);
        }

        // The outage: the lane is held once the breaker has opened.
        await().atMost(WAIT).until(() -> registry.get("dialer.dispatcher.lanes.held.for.carrier").gauge().value() >= 1);
        Thread.sleep(7_000);
        long triedDuringOutage = attemptRows(run);
        long deferredDuringOutage = requests.stream().mapToLong(id -> deferred(fixture.eventsFor(id)).size()).sum();
        // Dialled into the refusals: the two that opened the breaker and a few probes each time it half-opened
        // (three per 3 s; more on a busy machine, where the breaker opens later), not all thirty calls, each again and
        // again (at 10 CPS the lane would have tried all thirty within 3 s, and requeued each every second or two).
        assertThat(triedDuringOutage).isBetween(2L, CALLS - 6L);
        assertThat(deferredDuringOutage).isGreaterThanOrEqualTo(2).isLessThan(CALLS);
        assertThat(requests).allSatisfy(id -> assertThat(finals(fixture.eventsFor(id))).isEmpty());
        // The calls requeued by the refusals came due during the outage and were kept in the schedule.
        assertThat(registry.counter("dialer.dispatcher.retries", "stage", "held", "reason", "capacity").count())
                .isPositive();

        CarrierSimulator simulator = carrierComesBack();

        await().atMost(WAIT).until(() -> requests.stream().allMatch(id -> !finals(fixture.eventsFor(id)).isEmpty()));
        assertThat(requests).allSatisfy(id -> assertThat(finals(fixture.eventsFor(id))).singleElement()
                .satisfies(last -> assertThat(text(last, "status")).isEqualTo("answered")));
        Map<Object, Long> dialsPerRequest = simulator.calls().stream()
                .filter(call -> String.valueOf(call.tag().get("request_id")).startsWith(run))
                .collect(Collectors.groupingBy(call -> call.tag().get("request_id"), Collectors.counting()));
        assertThat(dialsPerRequest).hasSize(CALLS).allSatisfy((request, dials) -> assertThat(dials).isEqualTo(1));
        assertThat(simulator.calls().stream().filter(call -> String.valueOf(call.tag().get("request_id"))
                .startsWith(run)).map(ReceivedCall::tag).map(tag -> tag.get("attempt")))
                .allMatch(attempt -> Integer.valueOf(1).equals(attempt));
        assertThat(registry.get("dialer.dispatcher.lanes.held.for.carrier").gauge().value()).isZero();
    }

    private long attemptRows(String prefix) {
        return db.sql("SELECT count(*) FROM dispatch.attempts WHERE request_id LIKE $1")
                .bind(0, prefix + "%")
                .map(row -> row.get(0, Long.class))
                .one()
                .block(WAIT);
    }
}
