package dev.dialer.dispatcher.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;

import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.dispatcher.callback.CallbackRecords;
import dev.dialer.dispatcher.pacing.Lanes;
import dev.dialer.dispatcher.pacing.LanesProperties;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class CommandConsumerRebalanceTest {

    private final Map<String, Integer> topicPartitions = new HashMap<>();
    private final List<List<String>> described = new ArrayList<>();
    private final KeyRouting routing = new KeyRouting();
    private final Lanes lanes = mock(Lanes.class);
    private final CommandConsumer consumer = new CommandConsumer(KafkaSettings.of("localhost:9"),
            new CommandConsumerProperties("dialer-dispatcher", 500, 64, Duration.ofSeconds(1), 4,
                    Duration.ofSeconds(15)),
            mock(CommandHandler.class), routing, lanes, new LanesProperties(1000, 50, Duration.ofSeconds(10), 150),
            mock(CallbackRecords.class), topics -> {
                described.add(topics);
                if (!topicPartitions.keySet().containsAll(topics)) {
                    throw new IllegalStateException("cannot describe " + topics);
                }
                return Map.copyOf(topicPartitions);
            });

    @Test
    void partitionsGainedAfterTheTopicsGrewAreSetUpByTheCountTheTopicsHaveNow() {
        routing.topicsHave(12, 12);
        topicPartitions.put("dialer.call.commands", 24);
        topicPartitions.put("dialer.carrier.callbacks", 24);

        consumer.assigned(bothTopics(Set.of(3, 15)));

        // Caller IDs hash over 24 partitions now: the parked lanes and calls in flight of 3 and 15 are found by it.
        verify(lanes).owns(Set.of(3, 15), Set.of(), 24);
        assertThat(routing.partitions()).isEqualTo(24);
        // Read once each, in one request, on the consumer's thread: every poll of every partition waits meanwhile.
        assertThat(described).containsExactly(List.of("dialer.call.commands", "dialer.carrier.callbacks"));
    }

    @Test
    void withoutAnAnswerTheCountKnownBeforeHolds() {
        routing.topicsHave(12, 12);

        consumer.assigned(bothTopics(Set.of(3)));

        verify(lanes).owns(Set.of(3), Set.of(), 12);
        assertThat(routing.partitions()).isEqualTo(12);
    }

    @Test
    void withoutAnAnswerAPartitionPastTheCountKnownRaisesItToAtLeastThatPartitionsNumberAndOne() {
        // The topics grew from 12 to 24 and could not be described: this dispatcher got the second half.
        routing.topicsHave(12, 12);

        consumer.assigned(bothTopics(Set.of(12, 17, 23)));

        verify(lanes).owns(Set.of(12, 17, 23), Set.of(), 24);
        assertThat(routing.partitions()).isEqualTo(24);
        assertThat(routing.callbackPartitionFor("+4930555001")).as("both topics taken as grown alike").isNotNull();
    }

    @Test
    void withoutAnAnswerTheCommandsTopicGrownAloneLeavesTheCallbacksTopicsCount() {
        // The operator grows dialer.call.commands to 24 first, and the counts cannot be read at the rebalance: the
        // second of two dispatchers gets the commands topic's second half, and the callbacks topic's (still 12).
        routing.topicsHave(12, 12);

        consumer.assigned(Map.of("dialer.call.commands", Set.of(12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23),
                "dialer.carrier.callbacks", Set.of(6, 7, 8, 9, 10, 11)));

        assertThat(routing.partitions()).isEqualTo(24);
        assertThat(routing.callbacksPartitions()).isEqualTo(12);
        // No callback is sent to a partition the callbacks topic does not have: left to the producer's own count.
        assertThat(IntStream.range(0, 200).mapToObj(i -> routing.callbackPartitionFor("+49305550" + (1000 + i))))
                .containsOnlyNulls();
    }

    @Test
    void theCallbacksTopicGrownFirstIsNoSignTheCommandsTopicGrew() {
        // The operator grows dialer.carrier.callbacks to 24 first; a rebalance comes before dialer.call.commands grows.
        routing.topicsHave(12, 12);
        topicPartitions.put("dialer.call.commands", 12);
        topicPartitions.put("dialer.carrier.callbacks", 24);

        // The second of two dispatchers: the range assignor gives it the second half of each topic.
        consumer.assigned(Map.of("dialer.call.commands", Set.of(6, 7, 8, 9, 10, 11),
                "dialer.carrier.callbacks", Set.of(12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23)));

        // Caller IDs still hash over 12, and this dispatcher owns half of them, not more.
        assertThat(routing.partitions()).isEqualTo(12);
        verify(lanes).owns(Set.of(6, 7, 8, 9, 10, 11), Set.of(), 12);
    }

    /** Both topics' same partitions, as the range assignor gives them while the topics have as many. */
    private static Map<String, Set<Integer>> bothTopics(Set<Integer> partitions) {
        return Map.of("dialer.call.commands", partitions, "dialer.carrier.callbacks", partitions);
    }
}
