package dev.dialer.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.kafka.receiver.KafkaReceiver;
import reactor.kafka.receiver.ReceiverOptions;
import reactor.kafka.receiver.ReceiverPartition;
import reactor.test.StepVerifier;

class PartitionFlowTest {

    @Test
    void aPauseOrResumeWhileTheFailedConsumerIsBeingReplacedCompletesWithoutEffect() {
        AtomicInteger asked = new AtomicInteger();
        PartitionFlow flow = new PartitionFlow();
        // What reactor-kafka's receiver answers once its failed consumer was closed and before a new one is attached.
        flow.attach(receiverRefusing(asked));
        try (FlowControlledConsumer<String, byte[]> consumer = new FlowControlledConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:9",
                ConsumerConfig.GROUP_ID_CONFIG, "partition-flow-test"),
                ReceiverOptions.<String, byte[]>create()
                        .withKeyDeserializer(new StringDeserializer())
                        .withValueDeserializer(new ByteArrayDeserializer()), flow)) {
            flow.consumerCreated(consumer);

            flow.pause("commands", 0).as(StepVerifier::create).expectComplete().verify(Duration.ofSeconds(5));
            flow.resume("commands", 0).as(StepVerifier::create).expectComplete().verify(Duration.ofSeconds(5));
        }
        assertThat(asked).as("both went to the receiver").hasValue(2);
    }

    @Test
    void eachPartitionsLastRevocationIsKeptAsTheGenerationItMadeBeforeAnyListenerHearsOfIt() {
        PartitionFlow flow = new PartitionFlow();
        List<Long> heard = new ArrayList<>();
        flow.onRevoked(partitions -> heard.add(flow.revokedAt("commands", 3)));

        flow.assigned(List.of(partition("commands", 3), partition("callbacks", 3)));
        flow.revoked(List.of(partition("commands", 3)));
        flow.assigned(List.of(partition("commands", 3)));

        assertThat(flow.generation()).isEqualTo(3);
        assertThat(flow.revokedAt("commands", 3)).isEqualTo(2);
        assertThat(heard).as("set before the listeners ran").containsExactly(2L);
        assertThat(flow.revokedAt("callbacks", 3)).as("never revoked").isZero();
        assertThat(flow.fetchedBeforeRevocation(fetched("commands", 3, 1))).isTrue();
        assertThat(flow.fetchedBeforeRevocation(fetched("commands", 3, 3))).isFalse();
        assertThat(flow.fetchedBeforeRevocation(fetched("callbacks", 3, 1))).isFalse();
    }

    private static InboundRecord fetched(String topic, int partition, long assignment) {
        return new InboundRecord(topic, partition, 0, "key", new byte[0], Map.of(), () -> { }, assignment);
    }

    /** A receiver's partition: only its topic and number are asked. */
    static ReceiverPartition partition(String topic, int number) {
        return (ReceiverPartition) Proxy.newProxyInstance(PartitionFlowTest.class.getClassLoader(),
                new Class<?>[] {ReceiverPartition.class}, (proxy, method, args) -> {
                    if (method.getName().equals("topicPartition")) {
                        return new TopicPartition(topic, number);
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }

    @SuppressWarnings("unchecked")
    private static KafkaReceiver<String, byte[]> receiverRefusing(AtomicInteger asked) {
        return (KafkaReceiver<String, byte[]>) Proxy.newProxyInstance(PartitionFlowTest.class.getClassLoader(),
                new Class<?>[] {KafkaReceiver.class}, (proxy, method, args) -> {
                    if (method.getName().equals("doOnConsumer")) {
                        asked.incrementAndGet();
                        return Mono.error(new IllegalStateException("Consumer has been closed"));
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }
}
