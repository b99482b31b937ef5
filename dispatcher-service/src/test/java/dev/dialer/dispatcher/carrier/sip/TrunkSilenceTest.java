package dev.dialer.dispatcher.carrier.sip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TrunkSilenceTest {

    @Test
    void theTrunkIsSilentAfterThatManyUnansweredInvitesInARowAndAnsweringAnythingEndsIt() {
        TrunkSilence silence = new TrunkSilence(3);

        assertThat(silence.inviteUnanswered()).isFalse();
        assertThat(silence.inviteUnanswered()).isFalse();
        assertThat(silence.silent()).isFalse();
        assertThat(silence.inviteUnanswered()).as("the third makes it silent").isTrue();
        assertThat(silence.silent()).isTrue();
        assertThat(silence.inviteUnanswered()).as("announced once").isFalse();
        assertThat(silence.silent()).isTrue();

        assertThat(silence.heard()).as("ends the silence").isTrue();
        assertThat(silence.silent()).isFalse();
        assertThat(silence.heard()).isFalse();
    }

    @Test
    void anythingHeardBetweenUnansweredInvitesStartsTheCountAgain() {
        TrunkSilence silence = new TrunkSilence(2);

        silence.inviteUnanswered();
        assertThat(silence.heard()).as("not silent yet: nothing ended").isFalse();
        assertThat(silence.inviteUnanswered()).isFalse();
        assertThat(silence.silent()).isFalse();
        assertThat(silence.inviteUnanswered()).isTrue();
    }

    @Test
    void zeroNeverMakesTheTrunkSilent() {
        TrunkSilence silence = new TrunkSilence(0);

        for (int i = 0; i < 100; i++) {
            assertThat(silence.inviteUnanswered()).isFalse();
        }
        assertThat(silence.silent()).isFalse();
        assertThat(silence.heard()).isFalse();
        assertThatThrownBy(() -> new TrunkSilence(-1)).isInstanceOf(IllegalArgumentException.class);
    }
}
