package dev.dialer.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;

class TopicProvisionerTest {

    private static final TopicSpec COMMANDS = TopicSpec.deleting("dialer.call.commands", 12, Duration.ofDays(7));

    @Test
    void shouldCreateAReplicatedTopicWithMinInsyncReplicasOfTheReplicationFactorLessOne() {
        NewTopic topic = TopicProvisioner.newTopic(COMMANDS, (short) 5);

        assertThat(topic.replicationFactor()).isEqualTo((short) 5);
        assertThat(topic.configs()).containsEntry("min.insync.replicas", "4")
                .containsEntry("cleanup.policy", "delete")
                .containsEntry("retention.ms", Long.toString(Duration.ofDays(7).toMillis()));
    }

    @Test
    void shouldAskForAtLeastTwoInsyncReplicasOnceATopicIsReplicated() {
        assertThat(TopicProvisioner.newTopic(COMMANDS, (short) 3).configs()).containsEntry("min.insync.replicas", "2");
        assertThat(TopicProvisioner.newTopic(TopicSpec.compacted("dialer.dnc", 3), (short) 2).configs())
                .containsEntry("min.insync.replicas", "2");
    }

    @Test
    void shouldLeaveASingleReplicaTopicToTheBrokersDefault() {
        assertThat(TopicProvisioner.newTopic(COMMANDS, (short) 1).configs()).doesNotContainKey("min.insync.replicas");
    }

    @Test
    void shouldKeepTheMinInsyncReplicasASpecSets() {
        TopicSpec own = new TopicSpec("dialer.call.events", 12, Map.of("min.insync.replicas", "3"));

        assertThat(TopicProvisioner.newTopic(own, (short) 3).configs()).containsEntry("min.insync.replicas", "3");
    }
}
