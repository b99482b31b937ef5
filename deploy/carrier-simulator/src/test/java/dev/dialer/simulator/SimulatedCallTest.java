package dev.dialer.simulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

class SimulatedCallTest {

    private final AtomicInteger finals = new AtomicInteger();

    @Test
    void answeredCallCannotBeCancelledButCanBeHungUp() {
        SimulatedCall call = TestCalls.call("15550100005", "", finals);
        call.advance(StatusUpdate.RINGING);
        call.advance(StatusUpdate.IN_PROGRESS);

        assertThat(call.cancel()).isFalse();
        assertThat(call.hangUp()).isTrue();

        assertThat(call.current().callStatus()).isEqualTo("completed");
        assertThat(call.current().terminatedBy()).isEqualTo("jambonz");
        assertThat(finals).hasValue(1);
    }

    @Test
    void ringingCallCannotBeHungUpButCanBeCancelledWith487() {
        SimulatedCall call = TestCalls.call("15550100005", "", finals);
        call.advance(StatusUpdate.RINGING);

        assertThat(call.hangUp()).isFalse();
        assertThat(call.cancel()).isTrue();

        assertThat(call.current()).isEqualTo(StatusUpdate.NO_ANSWER);
        assertThat(call.interruption().block(Duration.ofSeconds(1))).isTrue();
    }

    @Test
    void nothingMovesACallAfterItsFinalStatus() {
        SimulatedCall call = TestCalls.call("15550100000", "", finals);
        call.advance(StatusUpdate.BUSY);

        assertThat(call.advance(StatusUpdate.IN_PROGRESS)).isFalse();
        assertThat(call.cancel()).isFalse();

        assertThat(call.current()).isEqualTo(StatusUpdate.BUSY);
        assertThat(call.updates().map(StatusUpdate::callStatus).collectList().block(Duration.ofSeconds(1)))
                .containsExactly("trying", "busy");
        assertThat(finals).hasValue(1);
    }

    @Test
    void talkSecondsCountFromAnswerAndFreezeAtCompletion() {
        SimulatedCall call = TestCalls.call("15550100005", "", finals);
        assertThat(call.talkSeconds()).isZero();

        call.advance(StatusUpdate.IN_PROGRESS);
        call.advance(StatusUpdate.completed(42, "caller"));

        assertThat(call.talkSeconds()).isEqualTo(42);
    }
}
