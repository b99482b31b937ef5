package dev.dialer.dispatcher.command;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.kafka.InboundRecord;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.utils.Utils;
import org.springframework.stereotype.Component;

/**
 * Where a command must live: keyed by its caller ID, on the partition Kafka's Java client (murmur2) gives that key,
 * so one dispatcher owns each caller ID and paces it exactly. librdkafka clients such as kcat hash with CRC32 unless
 * told {@code -X partitioner=murmur2_random}; their records, and records keyed by anything else, are re-routed once.
 */
@Component
public class KeyRouting {

    /** Header marking a record this dispatcher already re-routed: it is never bounced a second time. */
    static final String REROUTED_HEADER = "dialer.rerouted";

    private volatile int partitions;

    /** Set once the commands topic is known (start-up), and again if it grows. */
    public void commandsTopicHas(int partitionCount) {
        this.partitions = partitionCount;
    }

    /** Partitions of the commands topic; 0 before start-up has learnt it. */
    public int partitions() {
        return partitions;
    }

    /** Whether the record is on the wrong partition for its caller ID, or keyed by something else. */
    boolean misplaced(InboundRecord record, CallCommand command) {
        if (record.headers().containsKey(REROUTED_HEADER)) {
            return false;
        }
        if (!command.callerId().equals(record.key())) {
            return true;
        }
        int count = partitions;
        return count > 0 && record.partition() != partitionFor(command.callerId(), count);
    }

    static int partitionFor(String key, int partitionCount) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitionCount;
    }
}
