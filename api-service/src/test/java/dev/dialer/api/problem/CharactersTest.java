package dev.dialer.api.problem;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CharactersTest {

    private static final String EMOJI = "\uD83D\uDE00";

    @Test
    void countsCodePointsNotUtf16Units() {
        assertThat(Characters.moreThan("a".repeat(128), 128)).isFalse();
        assertThat(Characters.moreThan("a".repeat(129), 128)).isTrue();
        assertThat(Characters.moreThan(EMOJI.repeat(128), 128)).isFalse();
        assertThat(Characters.moreThan(EMOJI.repeat(128) + "a", 128)).isTrue();
        assertThat(Characters.moreThan(EMOJI.repeat(64) + "a".repeat(64), 128)).isFalse();
        assertThat(Characters.moreThan(EMOJI.repeat(65) + "a".repeat(64), 128)).isTrue();
        assertThat(Characters.moreThan("", 0)).isFalse();
        assertThat(Characters.moreThan(EMOJI, 0)).isTrue();
    }
}
