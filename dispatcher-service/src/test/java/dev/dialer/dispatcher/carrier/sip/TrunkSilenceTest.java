package dev.dialer.dispatcher.carrier.sip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TrunkSilenceTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    @Test
    void theTrunkIsSilentAfterThatManyUnansweredInvitesInARowAndAnsweringAnythingEndsIt() {
        TrunkSilence silence = new TrunkSilence(3, Duration.ofSeconds(60), now::get);

        assertThat(silence.inviteUnanswered()).isFalse();
        assertThat(silence.inviteUnanswered()).isFalse();
        assertThat(silence.silent()).isFalse();
        assertThat(silence.admits()).isTrue();
        assertThat(silence.inviteUnanswered()).as("the third makes it silent").isTrue();
        assertThat(silence.silent()).isTrue();
        assertThat(silence.admits()).isFalse();
        assertThat(silence.inviteUnanswered()).as("announced once").isFalse();
        assertThat(silence.silent()).isTrue();

        assertThat(silence.heard()).as("ends the silence").isTrue();
        assertThat(silence.silent()).isFalse();
        assertThat(silence.admits()).isTrue();
        assertThat(silence.heard()).isFalse();
    }

    @Test
    void anythingHeardBetweenUnansweredInvitesStartsTheCountAgain() {
        TrunkSilence silence = new TrunkSilence(2, Duration.ofSeconds(60), now::get);

        silence.inviteUnanswered();
        assertThat(silence.heard()).as("not silent yet: nothing ended").isFalse();
        assertThat(silence.inviteUnanswered()).isFalse();
        assertThat(silence.silent()).isFalse();
        assertThat(silence.inviteUnanswered()).isTrue();
    }

    @Test
    void aSilentTrunkGetsOneTrialCallEveryTrialInterval() {
        TrunkSilence silence = new TrunkSilence(1, Duration.ofSeconds(60), now::get);
        silence.inviteUnanswered();

        now.addAndGet(Duration.ofSeconds(59).toNanos());
        assertThat(silence.admits()).isFalse();
        now.addAndGet(Duration.ofSeconds(1).toNanos());
        assertThat(silence.admits()).as("the trial").isTrue();
        assertThat(silence.admits()).as("one per interval").isFalse();
        now.addAndGet(Duration.ofSeconds(60).toNanos());
        assertThat(silence.admits()).isTrue();
        assertThat(silence.silent()).as("a trial lets a call through; only an answer ends the silence").isTrue();
    }

    @Test
    void zeroNeverMakesTheTrunkSilent() {
        TrunkSilence silence = new TrunkSilence(0, Duration.ofSeconds(60), now::get);

        for (int i = 0; i < 100; i++) {
            assertThat(silence.inviteUnanswered()).isFalse();
        }
        assertThat(silence.silent()).isFalse();
        assertThat(silence.admits()).isTrue();
        assertThat(silence.heard()).isFalse();
        assertThatThrownBy(() -> new TrunkSilence(-1, Duration.ofSeconds(60), now::get))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
