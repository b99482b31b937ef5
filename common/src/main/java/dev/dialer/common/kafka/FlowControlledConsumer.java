package dev.dialer.common.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import reactor.kafka.receiver.ReceiverOptions;
import reactor.kafka.receiver.internals.ConsumerFactory;

/**
 * A Kafka consumer whose partitions are paused by two parties that must not undo each other: the receiver (reactor-kafka
 * pauses every assigned partition while its subscriber has no demand, and resumes them when demand returns) and the
 * application (which pauses single partitions whose records it cannot hold). A partition is fetched only while neither
 * has it paused.
 *
 * <p>Without this, an application resume made while reactor-kafka 1.3 held every partition paused for back-pressure
 * un-paused the partition at the consumer although the receiver had no demand: its event loop still polls (to commit)
 * and queues what those polls return, unbounded. With a long backlog that queue grew to hundreds of thousands of
 * records. Here every poll first re-applies both pauses, including to partitions assigned since (a rebalance inside a
 * back-pressure pause). The application's pauses bypass reactor-kafka's consumer proxy, so this class keeps their
 * record.
 *
 * <p>Every method runs on the receiver's event-loop thread: the receiver calls pause, resume and poll there, and
 * {@link PartitionFlow} calls {@link #pauseForApplication} and {@link #resumeForApplication} through
 * {@code KafkaReceiver.doOnConsumer}, which runs there too.
 */
final class FlowControlledConsumer<K, V> extends KafkaConsumer<K, V> {

    /** The header a polled record carries its {@link PartitionFlow#generation} in, until it is read. */
    static final String ASSIGNMENT_HEADER = "dialer.assignment";

    private final Set<TopicPartition> pausedByApplication = new HashSet<>();
    private final PartitionFlow flow;
    private boolean pausedByReceiver;

    FlowControlledConsumer(Map<String, Object> config, ReceiverOptions<K, V> options, PartitionFlow flow) {
        super(config, options.keyDeserializer(), options.valueDeserializer());
        this.flow = flow;
    }

    /** Creates the consumers of one subscription, telling {@code flow} of each. */
    static ConsumerFactory factory(PartitionFlow flow) {
        return new ConsumerFactory() {
            @Override
            public <K, V> org.apache.kafka.clients.consumer.Consumer<K, V> createConsumer(ReceiverOptions<K, V> options) {
                FlowControlledConsumer<K, V> consumer = new FlowControlledConsumer<>(options.consumerProperties(),
                        options, flow);
                flow.consumerCreated(consumer);
                return consumer;
            }
        };
    }

    /**
     * The receiver's back-pressure pause (the application pauses through {@link #pauseForApplication}): it names every
     * assigned partition, and holds for partitions assigned later too.
     */
    @Override
    public void pause(Collection<TopicPartition> partitions) {
        pausedByReceiver = true;
        super.pause(partitions);
    }

    /** The receiver's resume: partitions the application holds paused stay paused. */
    @Override
    public void resume(Collection<TopicPartition> partitions) {
        pausedByReceiver = false;
        Set<TopicPartition> toResume = new HashSet<>(partitions);
        toResume.removeAll(pausedByApplication);
        super.resume(toResume);
    }

    @Override
    public ConsumerRecords<K, V> poll(Duration timeout) {
        Set<TopicPartition> assigned = assignment();
        if (pausedByReceiver) {
            super.pause(assigned);
        } else if (!pausedByApplication.isEmpty()) {
            Set<TopicPartition> paused = new HashSet<>(pausedByApplication);
            paused.retainAll(assigned);
            super.pause(paused);
        }
        ConsumerRecords<K, V> records = super.poll(timeout);
        if (!records.isEmpty()) {
            // After the poll: a rebalance's listeners run inside it, so these records belong to the assignment now.
            byte[] assignment = Long.toString(flow.generation()).getBytes(StandardCharsets.US_ASCII);
            for (ConsumerRecord<K, V> record : records) {
                record.headers().remove(ASSIGNMENT_HEADER);
                record.headers().add(ASSIGNMENT_HEADER, assignment);
            }
        }
        return records;
    }

    void pauseForApplication(TopicPartition partition) {
        pausedByApplication.add(partition);
        if (assignment().contains(partition)) {
            super.pause(Set.of(partition));
        }
    }

    void resumeForApplication(TopicPartition partition) {
        pausedByApplication.remove(partition);
        if (!pausedByReceiver && assignment().contains(partition)) {
            super.resume(Set.of(partition));
        }
    }
}
