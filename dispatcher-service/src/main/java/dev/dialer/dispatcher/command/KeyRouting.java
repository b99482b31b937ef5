package dev.dialer.dispatcher.command;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Where a command must live: keyed by its caller ID, on the partition Kafka's Java client (murmur2) gives that key,
 * so one dispatcher owns each caller ID and paces it exactly. librdkafka clients such as kcat hash with CRC32 unless
 * told {@code -X partitioner=murmur2_random}; their records, and records keyed by anything else, are re-routed: written
 * again to the partition this dispatcher's count of them gives the caller ID, named rather than left to the producer,
 * whose own count may lag one that grew.
 */
@Component
public class KeyRouting {

    /** Header marking a record a dispatcher re-routed: where it was ({@code partition@offset}). */
    static final String REROUTED_HEADER = "dialer.rerouted";
    /** Header counting how many times a record was re-routed ({@link #MAX_REROUTES}). */
    static final String REROUTES_HEADER = "dialer.reroutes";
    /**
     * How many times a record is re-routed at most: one found on the wrong partition after that is taken where it is
     * (dispatchers whose counts of the partitions differ, while a grown topic's count reaches them all, could
     * otherwise send it back and forth).
     */
    static final int MAX_REROUTES = 3;

    private static final Logger log = LoggerFactory.getLogger(KeyRouting.class);

    private volatile int partitions;
    private volatile int callbacksPartitions;
    // Each partition owned, with when (System.nanoTime) its current assignment began.
    private final Map<Integer, Long> owned = new ConcurrentHashMap<>();
    private final AtomicLong revocations = new AtomicLong();

    /** Set once the commands topic is known (start-up), and again if it grows. */
    public void commandsTopicHas(int partitionCount) {
        this.partitions = partitionCount;
        this.callbacksPartitions = partitionCount;
    }

    /**
     * The topics' partition counts at start-up. The callbacks of a caller ID's calls must reach the dispatcher that
     * owns its commands, which the range assignor does only for topics of the same partition count: with any other,
     * the dispatcher refuses to start rather than apply statuses of calls another dispatcher paces.
     *
     * @throws IllegalStateException when the two topics' counts differ
     */
    public void topicsHave(int commandsPartitions, int callbacksPartitions) {
        if (commandsPartitions != callbacksPartitions) {
            throw new IllegalStateException(notCoPartitioned(commandsPartitions, callbacksPartitions)
                    + "; give both topics the same number of partitions");
        }
        commandsTopicHas(commandsPartitions);
    }

    /**
     * The topics' partition counts read again after a rebalance (adding partitions to a topic brings one on).
     * A running dispatcher cannot refuse, so topics no longer co-partitioned are logged as the error they are.
     *
     * @return whether the commands topic's count changed (the limits divided by it must be re-divided)
     */
    public boolean recounted(int commandsPartitions, int callbacksPartitions) {
        if (commandsPartitions != callbacksPartitions) {
            log.error("{}; statuses of some calls now reach a dispatcher that does not pace them: give both topics "
                    + "the same number of partitions", notCoPartitioned(commandsPartitions, callbacksPartitions));
        }
        int before = partitions;
        commandsTopicHas(commandsPartitions);
        this.callbacksPartitions = callbacksPartitions;
        if (before != commandsPartitions) {
            log.info("{} has {} partitions now (was {})", Topics.CALL_COMMANDS, commandsPartitions, before);
        }
        return before != commandsPartitions;
    }

    private static String notCoPartitioned(int commandsPartitions, int callbacksPartitions) {
        return "%s has %d partitions but %s has %d: the topics must be co-partitioned".formatted(
                Topics.CARRIER_CALLBACKS, callbacksPartitions, Topics.CALL_COMMANDS, commandsPartitions);
    }

    /** Partitions of the commands topic; 0 before start-up has learnt it. */
    public int partitions() {
        return partitions;
    }

    /**
     * The consumer was given {@code assigned} and lost {@code revoked} (partition numbers, the same for both topics).
     * A rebalance revokes before it assigns, so between the two this dispatcher owns none of the partitions moving.
     */
    public void owns(Set<Integer> assigned, Set<Integer> revoked) {
        // Removed before the revocation is counted: a reader that reads the count, then the ownership, and saw the new
        // count then sees the partitions gone; one that saw the old count finds it changed after applying.
        revoked.forEach(owned::remove);
        if (!revoked.isEmpty()) {
            revocations.incrementAndGet();
        }
        long now = System.nanoTime();
        assigned.forEach(partition -> owned.put(partition, now));
    }

    /** The consumer stopped: this dispatcher owns no partition any more. */
    public void ownsNone() {
        // Cleared before the revocation is counted, as in owns.
        owned.clear();
        revocations.incrementAndGet();
    }

    /**
     * How many times this dispatcher has lost partitions so far: a callback applied in place while it changed may
     * have been applied after its partition's next owner counted the call as in flight.
     */
    public long revocations() {
        return revocations.get();
    }

    /** Whether this dispatcher owns the partition of {@code callerId} now: it applies that caller ID's callbacks. */
    public boolean owns(String callerId) {
        return ownedSince(callerId) != null;
    }

    /**
     * When ({@link System#nanoTime}) this dispatcher's current ownership of {@code callerId}'s partition began; null
     * when it does not own it. Callbacks that arrived before then, in a rebalance, went through the callbacks topic.
     */
    public Long ownedSince(String callerId) {
        Integer partition = partitionFor(callerId);
        return partition != null ? owned.get(partition) : null;
    }

    /**
     * Whether the record is on the wrong partition for its caller ID, or keyed by something else, and may be re-routed
     * (it was fewer than {@link #MAX_REROUTES} times). A re-routed record is trusted only on the partition this
     * dispatcher's count gives its caller ID: written there by a dispatcher whose count lagged (or was ahead), it is
     * re-routed again rather than dialled by a dispatcher that does not own the caller ID.
     */
    boolean misplaced(InboundRecord record, CallCommand command) {
        Integer partition = partitionFor(command.callerId());
        boolean misplaced = !command.callerId().equals(record.key())
                || partition != null && record.partition() != partition;
        if (misplaced && reroutes(record) >= MAX_REROUTES) {
            log.warn("command {} at {}-{}@{} is still not on its caller ID's partition after {} re-routes; taken "
                    + "here", command.requestId(), record.topic(), record.partition(), record.offset(),
                    MAX_REROUTES);
            return false;
        }
        return misplaced;
    }

    /** How many times the record was re-routed so far. */
    static int reroutes(InboundRecord record) {
        String counted = record.headers().get(REROUTES_HEADER);
        if (counted != null) {
            try {
                return Math.max(1, Integer.parseInt(counted));
            } catch (NumberFormatException e) {
                return MAX_REROUTES;
            }
        }
        return record.headers().containsKey(REROUTED_HEADER) ? 1 : 0;
    }

    /**
     * A record of a topic keyed by caller ID ({@value Topics#CARRIER_CALLBACKS}) again, to be written to the partition
     * this dispatcher's count gives its key; null when it is there already, its count is not known, or it was
     * re-routed {@link #MAX_REROUTES} times. Written elsewhere by a producer whose count of the partitions lagged one
     * that grew, it would be applied by a dispatcher that does not own its caller ID. Its headers go with it as they
     * came; the re-routing marks are the dispatcher's own.
     */
    public OutboundRecord rerouted(InboundRecord record) {
        Integer partition = record.key() == null ? null : callbackPartitionFor(record.key());
        if (partition == null || record.partition() == partition) {
            return null;
        }
        if (reroutes(record) >= MAX_REROUTES) {
            log.warn("record at {}-{}@{} is still not on its caller ID's partition after {} re-routes; taken here",
                    record.topic(), record.partition(), record.offset(), MAX_REROUTES);
            return null;
        }
        return reroutedAs(record, record.key(), partition);
    }

    /**
     * The record written again to its topic, keyed {@code key}, to {@code partition}: its headers go with it as they
     * came; the re-routing marks ({@value #REROUTED_HEADER}, {@value #REROUTES_HEADER}) are the dispatcher's own.
     */
    static OutboundRecord reroutedAs(InboundRecord record, String key, Integer partition) {
        return new OutboundRecord(record.topic(), key, record.value(), Map.of(REROUTED_HEADER,
                record.partition() + "@" + record.offset(), REROUTES_HEADER, Integer.toString(reroutes(record) + 1)),
                record.rawHeaders(), partition);
    }

    /** The partition count of {@value Topics#CARRIER_CALLBACKS} as last known; 0 when not known. */
    public int callbacksPartitions() {
        return callbacksPartitions;
    }

    /**
     * The partition of {@value Topics#CARRIER_CALLBACKS} {@code callerId}'s callbacks belong on; null when the count is
     * not known, or while the topics have different counts (one grown before the other): a partition named by the
     * commands topic's count may not exist in the callbacks topic yet, and the producer, left to choose, writes where
     * the callbacks topic's own count puts it.
     */
    public Integer callbackPartitionFor(String callerId) {
        return callbacksPartitions == partitions ? partitionFor(callerId) : null;
    }

    /** The partition {@code callerId}'s records belong on (and are re-routed to); null when the count is not known. */
    public Integer partitionFor(String callerId) {
        int count = partitions;
        return count > 0 ? KafkaPublisher.partitionOf(callerId, count) : null;
    }
}
