package dev.dialer.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.kafka.receiver.KafkaReceiver;
import reactor.kafka.receiver.ReceiverOptions;
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
