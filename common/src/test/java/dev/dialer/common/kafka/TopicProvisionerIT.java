package dev.dialer.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.infra.Infrastructure;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class TopicProvisionerIT {

    private final KafkaSettings kafka = KafkaSettings.of(Infrastructure.shared().kafkaBootstrapServers());

    @Test
    void createsMissingTopicsWithTheirPartitionCounts() {
        String name = "provision-" + UUID.randomUUID();

        TopicProvisioner.ensure(kafka, List.of(TopicSpec.deleting(name, 4, Duration.ofDays(1))), (short) 1, 30_000);
        TopicProvisioner.ensure(kafka, List.of(TopicSpec.deleting(name, 4, Duration.ofDays(1))), (short) 1, 30_000);

        assertThat(TopicProvisioner.partitionCount(kafka, name, 30_000)).isEqualTo(4);
    }

    @Test
    void waitsForATopicThatAnotherInstanceIsStillCreating() throws Exception {
        String name = "late-" + UUID.randomUUID();
        CompletableFuture<Void> creator = CompletableFuture.runAsync(() -> TopicProvisioner.ensure(kafka,
                List.of(TopicSpec.deleting(name, 3, Duration.ofDays(1))), (short) 1, 30_000),
                CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS));

        int partitions = TopicProvisioner.partitionCount(kafka, name, 30_000);

        creator.get(30, TimeUnit.SECONDS);
        assertThat(partitions).isEqualTo(3);
    }

    @Test
    void aRecordMayBeReadAgainForItsTopicsRetentionAndSegmentTimeAsTheBrokerAppliesThem() {
        String own = "window-" + UUID.randomUUID();
        String defaults = "window-default-" + UUID.randomUUID();
        String forever = "window-forever-" + UUID.randomUUID();
        TopicProvisioner.ensure(kafka, List.of(
                new TopicSpec(own, 1, Map.of("retention.ms", "86400000", "segment.ms", "3600000")),
                TopicSpec.deleting(defaults, 1, Duration.ofDays(1)),
                new TopicSpec(forever, 1, Map.of("retention.ms", "-1"))), (short) 1, 30_000);

        assertThat(TopicProvisioner.rereadWindow(kafka, own, 30_000)).isEqualTo(Duration.ofHours(25));
        assertThat(TopicProvisioner.rereadWindow(kafka, defaults, 30_000))
                .as("the broker's own segment time added").isGreaterThan(Duration.ofDays(1));
        assertThat(TopicProvisioner.rereadWindow(kafka, forever, 30_000)).isNull();
    }

    @Test
    void refusesToStartOnTopicsSomeoneElseMadeWithAnotherCleanupPolicy() {
        String dnc = "dnc-" + UUID.randomUUID();
        String commands = "commands-" + UUID.randomUUID();
        // Made by hand, the broker's way: deleting, and compacting.
        TopicProvisioner.ensure(kafka, List.of(TopicSpec.deleting(dnc, 1, Duration.ofDays(7)),
                new TopicSpec(commands, 1, Map.of("cleanup.policy", "compact"))), (short) 1, 30_000);

        assertThatThrownBy(() -> TopicProvisioner.ensure(kafka, List.of(TopicSpec.compacted(dnc, 1),
                TopicSpec.deleting(commands, 1, Duration.ofDays(7))), (short) 1, 30_000))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(dnc + " has cleanup.policy=delete, the dialer needs compact")
                .hasMessageContaining(commands + " has cleanup.policy=compact, the dialer needs delete");
        TopicProvisioner.ensure(kafka, List.of(TopicSpec.compacted("ok-" + dnc, 1),
                TopicSpec.compacted("ok-" + dnc, 1)), (short) 1, 30_000);
    }

    @Test
    void refusesToStartOnATopicSomeoneElseMadeForSmallerRecordsThanTheDialerSendsButNotOnADlq() {
        String events = "events-" + UUID.randomUUID();
        String dlq = "events-" + UUID.randomUUID() + ".dlq";
        String larger = "events-larger-" + UUID.randomUUID();
        TopicProvisioner.ensure(kafka, List.of(
                TopicSpec.deleting(events, 1, Duration.ofDays(7)).maxMessageBytes(500_000),
                TopicSpec.deleting(dlq, 1, Duration.ofDays(7)).maxMessageBytes(500_000),
                TopicSpec.deleting(larger, 1, Duration.ofDays(7)).maxMessageBytes(2_000_000)), (short) 1, 30_000);

        assertThatThrownBy(() -> TopicProvisioner.ensure(kafka, List.of(
                TopicSpec.deleting(events, 1, Duration.ofDays(7)).maxMessageBytes(Topics.MAX_EVENT_BYTES),
                TopicSpec.deleting(dlq, 1, Duration.ofDays(7)).maxMessageBytes(Topics.MAX_DLQ_RECORD_BYTES)),
                (short) 1, 30_000))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(events + " has max.message.bytes=500000, the dialer needs at least "
                        + Topics.MAX_EVENT_BYTES)
                .hasMessageNotContaining(dlq);
        TopicProvisioner.ensure(kafka, List.of(
                TopicSpec.deleting(larger, 1, Duration.ofDays(7)).maxMessageBytes(Topics.MAX_EVENT_BYTES),
                TopicSpec.deleting(dlq, 1, Duration.ofDays(7)).maxMessageBytes(Topics.MAX_DLQ_RECORD_BYTES)),
                (short) 1, 30_000);
    }

    @Test
    void givesUpOnATopicThatNeverAppears() {
        assertThatThrownBy(() -> TopicProvisioner.partitionCount(kafka, "never-" + UUID.randomUUID(), 500))
                .isInstanceOf(IllegalStateException.class);
    }
}
