package dev.dialer.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

class CallTimelineTest {

    private static final Duration VERIFY = Duration.ofSeconds(5);
    private final CallTimeline timeline = new CallTimeline(Duration.ofSeconds(10), Duration.ofSeconds(30));
    private final AtomicInteger finals = new AtomicInteger();

    @Test
    void answeredCallRingsForTheRingTimeThenTalksForTheTalkTime() {
        SimulatedCall call = TestCalls.call("15550100005", "", finals);

        StepVerifier.withVirtualTime(() -> timeline.play(call))
                .expectSubscription()
                .then(() -> assertThat(call.current()).isEqualTo(StatusUpdate.RINGING))
                .expectNoEvent(Duration.ofSeconds(10))
                .then(() -> assertThat(call.current()).isEqualTo(StatusUpdate.IN_PROGRESS))
                .expectNoEvent(Duration.ofSeconds(30))
                .expectComplete()
                .verify(VERIFY);

        assertThat(call.current()).isEqualTo(StatusUpdate.completed(30, "caller"));
        assertThat(statuses(call)).containsExactly("trying", "ringing", "in-progress", "completed");
        assertThat(finals).hasValue(1);
    }

    @Test
    void timeLimitShorterThanTheTalkTimeEndsTheCallFromTheGatewaySide() {
        SimulatedCall call = TestCalls.call("15550100005", ",\"timeLimit\":5", finals);

        StepVerifier.withVirtualTime(() -> timeline.play(call))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(15))
                .expectComplete()
                .verify(VERIFY);

        assertThat(call.current()).isEqualTo(StatusUpdate.completed(5, "jambonz"));
    }

    @Test
    void unansweredCallIsCancelledAtTheRequestTimeout() {
        SimulatedCall call = TestCalls.call("15550100001", ",\"timeout\":25", finals);

        StepVerifier.withVirtualTime(() -> timeline.play(call))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(24))
                .then(() -> assertThat(call.current()).isEqualTo(StatusUpdate.RINGING))
                .expectNoEvent(Duration.ofSeconds(1))
                .expectComplete()
                .verify(VERIFY);

        assertThat(call.current()).isEqualTo(StatusUpdate.NO_ANSWER);
    }

    @Test
    void unansweredCallWithoutTimeoutRingsForSixtySeconds() {
        SimulatedCall call = TestCalls.call("15550100001", "", finals);

        StepVerifier.withVirtualTime(() -> timeline.play(call))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(59))
                .then(() -> assertThat(call.current()).isEqualTo(StatusUpdate.RINGING))
                .expectNoEvent(Duration.ofSeconds(1))
                .expectComplete()
                .verify(VERIFY);

        assertThat(call.current()).isEqualTo(StatusUpdate.NO_ANSWER);
    }

    @Test
    void ringTimeReachingTheTimeoutTurnsAnAnsweredCallIntoNoAnswer() {
        SimulatedCall call = TestCalls.call("15550100005", ",\"timeout\":10", finals);

        StepVerifier.withVirtualTime(() -> timeline.play(call))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(10))
                .expectComplete()
                .verify(VERIFY);

        assertThat(statuses(call)).containsExactly("trying", "ringing", "no-answer");
    }

    @Test
    void busyCallRingsThenDeclinesWith486() {
        SimulatedCall call = TestCalls.call("15550100000", "", finals);

        StepVerifier.withVirtualTime(() -> timeline.play(call))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(10))
                .expectComplete()
                .verify(VERIFY);

        assertThat(call.current()).isEqualTo(StatusUpdate.BUSY);
        assertThat(statuses(call)).containsExactly("trying", "ringing", "busy");
    }

    @Test
    void capacityRejectionFailsAtOnceWithoutRinging() {
        SimulatedCall call = TestCalls.call("15550100003", "", finals);

        StepVerifier.create(timeline.play(call)).expectComplete().verify(VERIFY);

        assertThat(call.current()).isEqualTo(StatusUpdate.CAPACITY_REJECTED);
        assertThat(statuses(call)).containsExactly("trying", "failed");
    }

    @Test
    void cancellingARingingCallStopsItsTimers() {
        SimulatedCall call = TestCalls.call("15550100005", "", finals);

        StepVerifier.withVirtualTime(() -> timeline.play(call))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(5))
                .then(() -> assertThat(call.cancel()).isTrue())
                .expectComplete()
                .verify(VERIFY);

        assertThat(statuses(call)).containsExactly("trying", "ringing", "no-answer");
        assertThat(finals).hasValue(1);
    }

    private static List<String> statuses(SimulatedCall call) {
        return call.updates().map(StatusUpdate::callStatus).collectList().block(VERIFY);
    }
}
