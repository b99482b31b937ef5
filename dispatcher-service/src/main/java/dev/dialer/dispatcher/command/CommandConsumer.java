package dev.dialer.dispatcher.command;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CommandReader;
import dev.dialer.common.contract.ContractViolation;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.KafkaSubscriber;
import dev.dialer.common.kafka.PartitionFlow;
import dev.dialer.common.kafka.TopicProvisioner;
import dev.dialer.common.kafka.Topics;
import dev.dialer.common.trace.TraceParent;
import dev.dialer.dispatcher.callback.CallbackRecords;
import dev.dialer.dispatcher.pacing.LaneTicket;
import dev.dialer.dispatcher.pacing.LaneWork;
import dev.dialer.dispatcher.pacing.Lanes;
import dev.dialer.dispatcher.pacing.LanesProperties;
import dev.dialer.dispatcher.pacing.PartitionLanes;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.GroupedFlux;
import reactor.core.publisher.Mono;

/**
 * The {@code dialer.call.commands} pipeline: consume, group by partition, and hand each partition's records to its
 * {@link PartitionLanes}, which dial them per caller ID within the pacing limits; the partitions side by side
 * (bounded {@code flatMap}). The same consumer reads {@code dialer.carrier.callbacks}, co-partitioned with the
 * commands, and applies each of its partitions' callbacks in order per caller ID ({@link CallbackPartition},
 * {@link CallbackRecords}): the owner of a caller ID's commands is the one writer of its calls' statuses.
 *
 * <p>Delivery: at least once per record (a record is acknowledged only after it is handled or parked, and the lanes
 * commit a partition only up to its first unfinished record); at most one dial per attempt (see
 * {@link CommandHandler}). As partitions move between dispatchers, the lanes of a revoked partition are dropped and
 * the trunk-wide limits re-divided by the share of partitions owned.
 */
@Component
public class CommandConsumer {

    private static final Logger log = LoggerFactory.getLogger(CommandConsumer.class);
    private static final long COUNT_TIMEOUT_MILLIS = 5_000;

    private final KafkaSettings settings;
    private final CommandConsumerProperties properties;
    private final CommandHandler handler;
    private final KeyRouting routing;
    private final Lanes lanes;
    private final LanesProperties lanesProperties;
    private final CallbackRecords callbacks;
    private final Function<List<String>, Map<String, Integer>> partitionCounts;
    private final CommandReader reader = new CommandReader();
    private final Map<Integer, PartitionLanes> byPartition = new ConcurrentHashMap<>();
    private final Map<Integer, CallbackPartition> callbacksByPartition = new ConcurrentHashMap<>();

    @Autowired
    CommandConsumer(KafkaSettings settings, CommandConsumerProperties properties, CommandHandler handler,
                    KeyRouting routing, Lanes lanes, LanesProperties lanesProperties, CallbackRecords callbacks) {
        this(settings, properties, handler, routing, lanes, lanesProperties, callbacks,
                topics -> TopicProvisioner.partitionCounts(settings, topics, COUNT_TIMEOUT_MILLIS));
    }

    CommandConsumer(KafkaSettings settings, CommandConsumerProperties properties, CommandHandler handler,
                    KeyRouting routing, Lanes lanes, LanesProperties lanesProperties, CallbackRecords callbacks,
                    Function<List<String>, Map<String, Integer>> partitionCounts) {
        this.partitionCounts = partitionCounts;
        this.callbacks = callbacks;
        this.settings = settings;
        this.properties = properties;
        this.handler = handler;
        this.routing = routing;
        this.lanes = lanes;
        this.lanesProperties = lanesProperties;
    }

    /** Runs until cancelled; per-record errors never end it, and the subscriber resubscribes on consumer failures. */
    public Flux<Void> run() {
        PartitionFlow flow = new PartitionFlow()
                .onAssigned(this::assigned)
                .onRevoked(this::revoked);
        return KafkaSubscriber.receive(coPartitioned(settings), properties.groupId(),
                        List.of(Topics.CALL_COMMANDS, Topics.CARRIER_CALLBACKS), properties.maxPollRecords(), flow,
                        properties.rebalanceWait())
                .groupBy(record -> record.topic() + "-" + record.partition())
                .flatMap(partition -> partition.key().startsWith(Topics.CARRIER_CALLBACKS + "-")
                        ? inOrder(partition, flow)
                        : inLanes(partition, flow), 2 * properties.concurrency())
                // Stopped, this dispatcher applies no callback in place: the partitions' next owners apply them.
                .doFinally(signal -> routing.ownsNone());
    }

    /**
     * The range assignor gives one consumer the same partition number of every subscribed topic when the topics have
     * as many partitions: so the dispatcher that owns a caller ID's commands also gets its callbacks.
     */
    private static KafkaSettings coPartitioned(KafkaSettings settings) {
        Map<String, Object> overrides = new java.util.HashMap<>(settings.overrides());
        overrides.putIfAbsent(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RangeAssignor.class.getName());
        return new KafkaSettings(settings.bootstrapServers(), overrides);
    }

    /** A callbacks partition, applied by caller ID ({@link CallbackPartition}). */
    private Flux<Void> inOrder(GroupedFlux<String, InboundRecord> group, PartitionFlow flow) {
        int partition = Integer.parseInt(group.key().substring(Topics.CARRIER_CALLBACKS.length() + 1));
        CallbackPartition applied = new CallbackPartition(properties.callbackStreams(),
                lanesProperties.maxInFlightPerPartition(),
                () -> flow.pause(Topics.CARRIER_CALLBACKS, partition).subscribe(),
                () -> flow.resume(Topics.CARRIER_CALLBACKS, partition).subscribe(),
                flow::fetchedBeforeRevocation);
        callbacksByPartition.put(partition, applied);
        return applied.apply(group, callbacks::handle)
                .doFinally(signal -> callbacksByPartition.remove(partition, applied));
    }

    private Flux<Void> inLanes(GroupedFlux<String, InboundRecord> group, PartitionFlow flow) {
        int partition = Integer.parseInt(group.key().substring(Topics.CALL_COMMANDS.length() + 1));
        PartitionLanes partitionLanes = lanes.forPartition(Topics.CALL_COMMANDS, partition, flow, new LaneWork() {
            @Override
            public Mono<LaneWork.Placement> handle(InboundRecord record, LaneTicket ticket) {
                return dial(record, ticket);
            }

            @Override
            public Mono<Void> reject(InboundRecord record, RuntimeException defect) {
                return handler.handleDefect(record, defect);
            }
        });
        byPartition.put(partition, partitionLanes);
        Flux<Void> admitted = group
                .doOnNext(record -> partitionLanes.admit(record, ticket(record)))
                .thenMany(Flux.empty());
        // The jobs first: they must be subscribed before the first record is admitted. Jobs are bounded by the
        // window (dials, parkings, a pacing timer and a trunk-wait timer per lane, pause and resume), so this bound
        // never throttles them.
        return Flux.merge(partitionLanes.jobs(3 * lanesProperties.maxInFlightPerPartition() + 16), admitted)
                .doFinally(signal -> {
                    lanes.closed(partitionLanes);
                    byPartition.remove(partition, partitionLanes);
                });
    }

    /**
     * Caller IDs are owned, and the trunk-wide limits divided, by the commands' partitions alone: the callbacks topic's
     * are the same numbers only while both topics have as many partitions, and an operator grows them one at a time.
     */
    void assigned(Map<String, Set<Integer>> byTopic) {
        Set<Integer> partitions = byTopic.getOrDefault(Topics.CALL_COMMANDS, Set.of());
        routing.owns(partitions, Set.of());
        recount();
        atLeastAsManyAs(partitions, byTopic.getOrDefault(Topics.CARRIER_CALLBACKS, Set.of()));
        lanes.owns(partitions, Set.of(), routing.partitions());
        partitions.forEach(number -> {
            PartitionLanes back = byPartition.get(number);
            if (back != null) {
                back.reassigned();
            }
        });
        byTopic.getOrDefault(Topics.CARRIER_CALLBACKS, Set.of()).forEach(number -> {
            CallbackPartition backCallbacks = callbacksByPartition.get(number);
            if (backCallbacks != null) {
                backCallbacks.reassigned();
            }
        });
    }

    /**
     * Reads the topics' partition counts again, before the gained partitions are set up: partitions added to a
     * subscribed topic bring on the rebalance that called this, and the range assignor's rebalance revokes and assigns
     * every partition, so what a gained partition learns (the caller IDs with records parked, the calls in flight that
     * hold trunk slots) must hash each caller ID over the count the topic has now, and the share of partitions owned,
     * which divides the trunk-wide limits, is of that count. On the consumer's thread, one admin request bounded by
     * {@link #COUNT_TIMEOUT_MILLIS} in all; without an answer the count known before holds.
     */
    private void recount() {
        int commands;
        int callbacks;
        try {
            Map<String, Integer> counts = partitionCounts.apply(
                    List.of(Topics.CALL_COMMANDS, Topics.CARRIER_CALLBACKS));
            commands = counts.get(Topics.CALL_COMMANDS);
            callbacks = counts.get(Topics.CARRIER_CALLBACKS);
        } catch (RuntimeException failed) {
            log.warn("The topics' partition counts could not be read again after a rebalance; the gained partitions "
                    + "are set up, and the trunk-wide limits divided, by {} partitions", routing.partitions(), failed);
            return;
        }
        if (routing.recounted(commands, callbacks) && !properties.covers(commands)) {
            log.error("{}; restart the dispatchers with a higher setting", properties.uncovered(commands));
        }
    }

    /**
     * A partition numbered past the count known says the topics grew though their counts could not be read again: the
     * count is taken as at least that partition's number and one, rather than hashing the gained partitions' caller IDs
     * over a count none of them has (every gained call in flight holding no slot, the trunk shared as if this
     * dispatcher owned all partitions, every command re-routed away) until the next rebalance. The callbacks topic's
     * count is raised only by a partition of its own past it: grown one at a time, the commands topic may have grown
     * alone, and a callback sent to a partition the callbacks topic does not have would hold the producer until it
     * timed out, and a re-route retried until it exists every Kafka write behind it.
     */
    private void atLeastAsManyAs(Set<Integer> commands, Set<Integer> callbacks) {
        int highest = highest(commands);
        if (highest >= routing.partitions() && routing.partitions() > 0) {
            int callbacksAtLeast = Math.max(routing.callbacksPartitions(), highest(callbacks) + 1);
            log.error("partition {} was assigned though {} has {} partitions as last read: it has at least {}; "
                    + "routing and limits follow that until a rebalance reads the count", highest,
                    Topics.CALL_COMMANDS, routing.partitions(), highest + 1);
            routing.recounted(highest + 1, callbacksAtLeast);
        }
    }

    private static int highest(Set<Integer> partitions) {
        return partitions.stream().mapToInt(Integer::intValue).max().orElse(-1);
    }

    /**
     * The partitions' lanes stop first, and only then are their trunk slots released: a lane's timer or grant that
     * fired in between would otherwise start a dial under a slot taken after the release, held here until it lapses
     * (its end goes to the partition's next owner), a slot fewer for this dispatcher's share of the trunk.
     */
    private void revoked(Map<String, Set<Integer>> byTopic) {
        Set<Integer> partitions = byTopic.getOrDefault(Topics.CALL_COMMANDS, Set.of());
        routing.owns(Set.of(), partitions);
        partitions.forEach(number -> {
            PartitionLanes revoked = byPartition.get(number);
            if (revoked != null) {
                revoked.revoke();
            }
        });
        byTopic.getOrDefault(Topics.CARRIER_CALLBACKS, Set.of()).forEach(number -> {
            CallbackPartition revokedCallbacks = callbacksByPartition.get(number);
            if (revokedCallbacks != null) {
                revokedCallbacks.revoke();
            }
        });
        lanes.owns(Set.of(), partitions, routing.partitions());
    }

    /** The command was read (and validated) when the record was admitted: it is not read again. */
    private Mono<LaneWork.Placement> dial(InboundRecord record, LaneTicket ticket) {
        return handler.handleReporting(record, ticket == null ? null : ticket.command())
                .map(CommandConsumer::placement);
    }

    /**
     * The trunk slot's part of an outcome. A {@code failed} or {@code requeued} command claimed its attempt's dial
     * (a copy of an attempt in flight is a {@code duplicate}) and no carrier has the call; one whose handling failed
     * after its claim may have a call at the carrier.
     */
    static LaneWork.Placement placement(CommandOutcome outcome) {
        return switch (outcome) {
            case DIALLED, ERROR_AFTER_CLAIM -> LaneWork.Placement.PLACED;
            case FAILED, REQUEUED -> LaneWork.Placement.NONE_IN_FLIGHT;
            default -> LaneWork.Placement.NOT_PLACED;
        };
    }

    /**
     * The lane ticket of a record to dial; null for one the handler will dead-letter or re-route at once, or one whose
     * reading failed for a defect (the handler reads it again, and keeps it aside if that fails too).
     */
    private LaneTicket ticket(InboundRecord record) {
        CallCommand command;
        try {
            command = reader.read(record.value());
            return routing.misplaced(record, command) ? null
                    : new LaneTicket(command, record.headers().get(TraceParent.HEADER));
        } catch (ContractViolation violation) {
            return null;
        } catch (RuntimeException defect) {
            log.error("command at {}-{}@{} could not be read for its lane; handed to the handler", record.topic(),
                    record.partition(), record.offset(), defect);
            return null;
        }
    }
}
