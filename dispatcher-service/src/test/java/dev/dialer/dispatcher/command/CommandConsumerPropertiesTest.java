package dev.dialer.dispatcher.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class CommandConsumerPropertiesTest {

    private static final CommandConsumerProperties TWELVE =
            new CommandConsumerProperties("dialer-dispatcher", 500, 12, Duration.ofSeconds(1), 4,
                    Duration.ofSeconds(15));

    @Test
    void aCommandsTopicOfAsManyPartitionsAsThePipelineReadsAtOnceIsCovered() {
        TWELVE.requireCovers(1);
        TWELVE.requireCovers(12);

        assertThat(TWELVE.covers(12)).isTrue();
    }

    @Test
    void aCommandsTopicOfMorePartitionsIsRefusedNamingTheSettingAndTheCount() {
        assertThat(TWELVE.covers(13)).isFalse();
        assertThatThrownBy(() -> TWELVE.requireCovers(13))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("dialer.dispatcher.commands.concurrency (12) is less than the 13 partitions of "
                        + "dialer.call.commands: the commands of partitions past it would never be read; set it to at "
                        + "least 13");
    }
}
