package dev.dialer.dispatcher.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;

class KeyRoutingTest {

    private static final String CALLER = "+918068281234";
    private final KeyRouting routing = new KeyRouting();

    private static CallCommand command() {
        return new CallCommand(1, "r", "a", CALLER, "+919876543215", "23", null, null, 0, 0, 1, null, null, null,
                null, null, null, null, null, Instant.now());
    }

    private static InboundRecord at(int partition, String key, Map<String, String> headers) {
        return new InboundRecord("dialer.call.commands", partition, 0, key, new byte[0], headers, () -> { });
    }

    @Test
    void agreesWithTheJavaClientsPartitioner() {
        byte[] key = CALLER.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(KafkaPublisher.partitionOf(CALLER, 12)).isEqualTo(BuiltInPartitioner.partitionForKey(key, 12));
    }

    @Test
    void ownsACallerIdWhilePartitionOfItIsAssigned() {
        int partition = KafkaPublisher.partitionOf(CALLER, 12);
        assertThat(routing.owns(CALLER)).as("before the topic's count is known").isFalse();
        routing.commandsTopicHas(12);
        assertThat(routing.owns(CALLER)).as("before any assignment").isFalse();

        routing.owns(Set.of(partition, (partition + 1) % 12), Set.of());
        assertThat(routing.owns(CALLER)).isTrue();

        routing.owns(Set.of(), Set.of(partition));
        assertThat(routing.owns(CALLER)).as("revoked").isFalse();

        routing.owns(Set.of(partition), Set.of());
        routing.ownsNone();
        assertThat(routing.owns(CALLER)).as("the consumer stopped").isFalse();
    }

    @Test
    void aRecordWhereItsCallerIdLivesStays() {
        routing.commandsTopicHas(12);

        int right = KafkaPublisher.partitionOf(CALLER, 12);
        assertThat(routing.misplaced(at(right, CALLER, Map.of()), command())).isFalse();
    }

    @Test
    void aRecordOnAnotherPartitionOrKeyedOtherwiseMoves() {
        routing.commandsTopicHas(12);
        int right = KafkaPublisher.partitionOf(CALLER, 12);

        assertThat(routing.misplaced(at((right + 1) % 12, CALLER, Map.of()), command())).isTrue();
        assertThat(routing.misplaced(at(right, "someone-else", Map.of()), command())).isTrue();
        assertThat(routing.misplaced(at(right, null, Map.of()), command())).isTrue();
    }

    @Test
    void refusesToStartWhenTheCallbacksTopicIsNotCoPartitionedWithTheCommands() {
        assertThatThrownBy(() -> routing.topicsHave(12, 6))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("dialer.carrier.callbacks has 6 partitions but dialer.call.commands has 12");
        assertThat(routing.partitions()).isZero();

        routing.topicsHave(12, 12);
        assertThat(routing.partitions()).isEqualTo(12);
    }

    @Test
    void routesByTheCommandsTopicsNewCountOnceItGrew() {
        routing.topicsHave(12, 12);

        assertThat(routing.recounted(12, 12)).isFalse();
        assertThat(routing.recounted(24, 24)).isTrue();
        int right = KafkaPublisher.partitionOf(CALLER, 24);
        assertThat(routing.misplaced(at(right, CALLER, Map.of()), command())).isFalse();
        assertThat(routing.misplaced(at((right + 1) % 24, CALLER, Map.of()), command())).isTrue();
    }

    @Test
    void aRecordReroutedToAPartitionThisCountDoesNotGiveItsCallerIdIsReroutedAgainAtMostThreeTimes() {
        // Written there by a dispatcher (or a producer) whose count of the partitions lagged a grown topic's.
        routing.commandsTopicHas(24);
        int right = KafkaPublisher.partitionOf(CALLER, 24);
        int wrong = (right + 1) % 24;

        assertThat(routing.misplaced(at(right, CALLER, Map.of(KeyRouting.REROUTED_HEADER, "0@1")), command()))
                .as("where it belongs").isFalse();
        assertThat(routing.misplaced(at(wrong, CALLER, Map.of(KeyRouting.REROUTED_HEADER, "0@1")), command()))
                .as("re-routed once, still misplaced").isTrue();
        assertThat(routing.misplaced(at(wrong, CALLER, Map.of(KeyRouting.REROUTED_HEADER, "0@1",
                KeyRouting.REROUTES_HEADER, "2")), command())).isTrue();
        assertThat(routing.misplaced(at(wrong, CALLER, Map.of(KeyRouting.REROUTED_HEADER, "0@1",
                KeyRouting.REROUTES_HEADER, "3")), command())).as("taken where it is").isFalse();
        assertThat(KeyRouting.reroutes(at(wrong, CALLER, Map.of()))).isZero();
        assertThat(KeyRouting.reroutes(at(wrong, CALLER, Map.of(KeyRouting.REROUTED_HEADER, "0@1")))).isOne();
        assertThat(routing.partitionFor(CALLER)).as("named, not left to a producer's count").isEqualTo(right);
    }

    @Test
    void aCallbackRecordOnAnotherPartitionThanItsCallerIdsIsWrittenAgainToItsOwnWithItsHeaders() {
        routing.commandsTopicHas(24);
        int right = KafkaPublisher.partitionOf(CALLER, 24);
        int wrong = (right + 1) % 24;
        InboundRecord misplaced = new InboundRecord("dialer.carrier.callbacks", wrong, 42, CALLER, new byte[] {1},
                Map.of("dialer.call-bound", "true"), () -> { });

        OutboundRecord rerouted = routing.rerouted(misplaced);

        assertThat(rerouted.partition()).isEqualTo(right);
        assertThat(rerouted.topic()).isEqualTo("dialer.carrier.callbacks");
        assertThat(rerouted.key()).isEqualTo(CALLER);
        assertThat(rerouted.value()).containsExactly(1);
        assertThat(rerouted.headers()).containsEntry(KeyRouting.REROUTED_HEADER, wrong + "@42")
                .containsEntry(KeyRouting.REROUTES_HEADER, "1");
        assertThat(rerouted.carried()).extracting(Header::key).containsExactly("dialer.call-bound");
        assertThat(routing.rerouted(at(right, CALLER, Map.of()))).as("where it belongs").isNull();
        assertThat(routing.rerouted(at(wrong, CALLER, Map.of(KeyRouting.REROUTES_HEADER, "3"))))
                .as("taken where it is").isNull();
        assertThat(new KeyRouting().rerouted(misplaced)).as("before the count is known").isNull();
    }

    @Test
    void whileOnlyTheCommandsTopicGrewCallbacksAreLeftToTheProducer() {
        routing.topicsHave(12, 12);
        assertThat(routing.callbackPartitionFor(CALLER)).isEqualTo(KafkaPublisher.partitionOf(CALLER, 12));

        routing.recounted(24, 12);
        int right = KafkaPublisher.partitionOf(CALLER, 24);
        assertThat(routing.callbackPartitionFor(CALLER)).as("a partition the callbacks topic may not have").isNull();
        assertThat(routing.rerouted(new InboundRecord("dialer.carrier.callbacks", (right + 1) % 12, 1, CALLER,
                new byte[0], Map.of(), () -> { }))).isNull();
        assertThat(routing.partitionFor(CALLER)).as("commands follow their own topic").isEqualTo(right);

        routing.recounted(24, 24);
        assertThat(routing.callbackPartitionFor(CALLER)).isEqualTo(right);
    }
}
