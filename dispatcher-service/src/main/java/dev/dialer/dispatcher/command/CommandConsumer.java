package dev.dialer.dispatcher.command;

import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.KafkaSubscriber;
import dev.dialer.common.kafka.Topics;
import java.util.List;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.GroupedFlux;

/**
 * The {@code dialer.call.commands} pipeline: consume, group by partition, handle each partition's records one after
 * another ({@code concatMap}), the partitions side by side (bounded {@code flatMap}).
 *
 * <p>Delivery: at least once per record (an offset is acknowledged only after its record is handled, and in a
 * partition records finish in order, so a committed offset never skips an unhandled record); at most one dial per
 * attempt (see {@link CommandHandler}). Per-caller lanes and pacing will replace the plain per-partition
 * {@code concatMap}.
 */
@Component
public class CommandConsumer {

    private final KafkaSettings settings;
    private final CommandConsumerProperties properties;
    private final CommandHandler handler;

    CommandConsumer(KafkaSettings settings, CommandConsumerProperties properties, CommandHandler handler) {
        this.settings = settings;
        this.properties = properties;
        this.handler = handler;
    }

    /** Runs until cancelled; per-record errors never end it, and the subscriber resubscribes on consumer failures. */
    public Flux<Void> run() {
        return KafkaSubscriber.receive(settings, properties.groupId(), List.of(Topics.CALL_COMMANDS),
                        properties.maxPollRecords())
                .groupBy(InboundRecord::partition)
                .flatMap(this::inOrder, properties.concurrency());
    }

    private Flux<Void> inOrder(GroupedFlux<Integer, InboundRecord> partition) {
        return partition.concatMap(handler::handle);
    }
}
