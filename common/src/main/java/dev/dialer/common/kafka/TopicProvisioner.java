package dev.dialer.common.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the dialer's topics that do not exist yet; existing topics are left as they are, but one whose
 * {@code cleanup.policy} is not the dialer's, or that takes smaller records, stops the start
 * ({@link #requireSettings}). Runs once at start-up,
 * before any pipeline subscribes, on the starting thread (it blocks, by design, for at most the given timeout). A
 * replicated topic is created with {@code min.insync.replicas} set ({@link #newTopic}).
 */
public final class TopicProvisioner {

    private static final Logger log = LoggerFactory.getLogger(TopicProvisioner.class);
    private static final long UNKNOWN_TOPIC_BACKOFF_MILLIS = 100;
    static final String MIN_INSYNC_REPLICAS = "min.insync.replicas";
    private static final String CLEANUP_POLICY = TopicConfig.CLEANUP_POLICY_CONFIG;
    private static final String MAX_MESSAGE_BYTES = TopicConfig.MAX_MESSAGE_BYTES_CONFIG;
    private static final String DLQ = ".dlq";

    private TopicProvisioner() {
    }

    /** Creates what is missing of {@code specs}, through an admin client given the settings' client properties. */
    public static void ensure(KafkaSettings settings, List<TopicSpec> specs, short replicationFactor,
                              long timeoutMillis) {
        String bootstrapServers = settings.bootstrapServers();
        int timeout = (int) Math.min(timeoutMillis, Integer.MAX_VALUE);
        try (Admin admin = Admin.create(adminProperties(settings, Map.of(
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeout,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeout)))) {
            Set<String> existing = admin.listTopics().names().get(timeoutMillis, TimeUnit.MILLISECONDS);
            requireSettings(admin, specs.stream().filter(spec -> existing.contains(spec.name())).toList(),
                    timeoutMillis);
            List<NewTopic> missing = specs.stream()
                    .filter(spec -> !existing.contains(spec.name()))
                    .map(spec -> newTopic(spec, replicationFactor))
                    .toList();
            if (missing.isEmpty()) {
                return;
            }
            List<String> madeElsewhere = new ArrayList<>();
            for (var entry : admin.createTopics(missing).values().entrySet()) {
                if (!awaitCreated(entry.getValue(), timeoutMillis)) {
                    madeElsewhere.add(entry.getKey());
                }
            }
            log.info("created topics {}", missing.stream().map(NewTopic::name)
                    .filter(name -> !madeElsewhere.contains(name)).toList());
            // Made by someone else since the list was read (another instance starting, an operator; or the list, read
            // from a broker that had not heard of them yet, did not show them): their policies are checked too.
            requireSettings(admin, specs.stream().filter(spec -> madeElsewhere.contains(spec.name())).toList(),
                    timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot reach Kafka at " + bootstrapServers + " to create topics", e);
        }
    }

    /**
     * Refuses topics made by someone else with another {@code cleanup.policy} than the dialer's: a DNC or control topic
     * that deletes instead of compacting loses its entries after the retention, and then numbers asked not to be called
     * are called again and cancels are forgotten; a commands topic that compacts keeps one command a caller ID. Refuses
     * too a topic taking smaller records ({@code max.message.bytes}) than the dialer sizes its own by: the outbox relay
     * would send an event the broker refuses, in every round, and hold back every event behind it; the API would answer
     * 503 for a command it validated. Such a topic is put right by its operator
     * ({@code kafka-configs --alter --add-config …}), not here: changing it is not the dialer's decision to make unseen.
     */
    private static void requireSettings(Admin admin, List<TopicSpec> existing, long timeoutMillis)
            throws InterruptedException, ExecutionException, TimeoutException {
        List<TopicSpec> checked = existing.stream().filter(spec -> spec.configs().containsKey(CLEANUP_POLICY)
                || spec.configs().containsKey(MAX_MESSAGE_BYTES)).toList();
        if (checked.isEmpty()) {
            return;
        }
        List<ConfigResource> resources = checked.stream()
                .map(spec -> new ConfigResource(ConfigResource.Type.TOPIC, spec.name()))
                .toList();
        Map<ConfigResource, Config> configs;
        try {
            configs = describeConfigs(admin, resources, timeoutMillis);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AuthorizationException) {
                log.warn("the topics' cleanup policies and record sizes could not be checked: not allowed to "
                        + "describe their configs ({}); make sure the DNC and control topics compact and the others "
                        + "delete, and that no topic takes smaller records than the dialer creates them with",
                        e.getCause().getMessage());
                return;
            }
            throw new IllegalStateException("cannot read the configs of the topics "
                    + checked.stream().map(TopicSpec::name).toList(), e);
        }
        List<String> wrong = new ArrayList<>();
        for (TopicSpec spec : checked) {
            Config config = configs.get(new ConfigResource(ConfigResource.Type.TOPIC, spec.name()));
            String actual = valueOf(config, CLEANUP_POLICY);
            String needed = spec.configs().get(CLEANUP_POLICY);
            if (needed != null && !policies(needed).equals(policies(actual))) {
                wrong.add(spec.name() + " has " + CLEANUP_POLICY + "=" + actual + ", the dialer needs " + needed);
            }
            String largest = valueOf(config, MAX_MESSAGE_BYTES);
            String least = spec.configs().get(MAX_MESSAGE_BYTES);
            // A DLQ takes what it can: a copy its topic refuses goes without its value (DeadLetters).
            if (least != null && largest != null && !spec.name().endsWith(DLQ)
                    && Long.parseLong(largest) < Long.parseLong(least)) {
                wrong.add(spec.name() + " has " + MAX_MESSAGE_BYTES + "=" + largest + ", the dialer needs at least "
                        + least);
            }
        }
        if (!wrong.isEmpty()) {
            throw new IllegalStateException("topics made with settings the dialer cannot work with: "
                    + String.join("; ", wrong) + ". Set them with kafka-configs --alter --add-config before starting");
        }
    }

    /**
     * The topics' configs; a topic made a moment ago can still be unknown to the broker that answers: that is waited
     * out until {@code timeoutMillis} ({@link #waitingOutUnknownTopic}).
     */
    private static Map<ConfigResource, Config> describeConfigs(Admin admin, List<ConfigResource> resources,
                                                               long timeoutMillis)
            throws InterruptedException, ExecutionException, TimeoutException {
        return waitingOutUnknownTopic(timeoutMillis,
                left -> admin.describeConfigs(resources).all().get(left, TimeUnit.MILLISECONDS));
    }

    /** A blocking call to the admin client, given how many milliseconds are left for it. */
    @FunctionalInterface
    private interface AdminCall<T> {
        T call(long leftMillis) throws InterruptedException, ExecutionException, TimeoutException;
    }

    /**
     * {@code call}'s answer, the call made again while it fails because the answering broker does not know the topic
     * yet (it was created a moment ago, and the news has not reached every broker), until {@code timeoutMillis}: one
     * that would be made again after it fails at once.
     */
    private static <T> T waitingOutUnknownTopic(long timeoutMillis, AdminCall<T> call)
            throws InterruptedException, ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (true) {
            try {
                return call.call(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
                        || System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(UNKNOWN_TOPIC_BACKOFF_MILLIS) > deadline) {
                    throw e;
                }
                Thread.sleep(UNKNOWN_TOPIC_BACKOFF_MILLIS);
            }
        }
    }

    private static String valueOf(Config config, String name) {
        return config == null || config.get(name) == null ? null : config.get(name).value();
    }

    private static Set<String> policies(String value) {
        Set<String> policies = new HashSet<>();
        if (value != null) {
            for (String policy : value.split(",")) {
                if (!policy.isBlank()) {
                    policies.add(policy.strip().toLowerCase(Locale.ROOT));
                }
            }
        }
        return policies;
    }

    /**
     * The topic as it is created: the spec's partitions and configs, and {@code min.insync.replicas} of the
     * replication factor less one, at least 2, when the topic is replicated and the spec does not set it. The
     * producers send with {@code acks=all}, which waits only for the replicas in sync: under the broker's default
     * (1) an acknowledged record could rest on the leader alone, and be lost with it. With this, a partition with
     * fewer replicas in sync refuses writes (the API answers 503) rather than acknowledging a single copy.
     */
    static NewTopic newTopic(TopicSpec spec, short replicationFactor) {
        Map<String, String> configs = new HashMap<>(spec.configs());
        if (replicationFactor > 1) {
            configs.putIfAbsent(MIN_INSYNC_REPLICAS, Integer.toString(Math.max(2, replicationFactor - 1)));
        }
        return new NewTopic(spec.name(), spec.partitions(), replicationFactor).configs(Map.copyOf(configs));
    }

    /**
     * How many partitions each of {@code topics} has now, in one request (blocking, at most {@code timeoutMillis} in
     * all, a topic not known yet waited out within it): for a caller that must not wait long, such as a consumer's
     * rebalance listener, whose consumer polls nothing meanwhile.
     */
    public static Map<String, Integer> partitionCounts(KafkaSettings settings, List<String> topics,
                                                       long timeoutMillis) {
        int timeout = (int) Math.min(timeoutMillis, Integer.MAX_VALUE);
        try (Admin admin = Admin.create(adminProperties(settings, Map.of(
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeout,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeout)))) {
            return waitingOutUnknownTopic(timeoutMillis, left -> {
                Map<String, Integer> counts = new HashMap<>();
                // The request's own timeout is what is left too: closing the client waits for a pending one.
                admin.describeTopics(topics, new DescribeTopicsOptions().timeoutMs((int) Math.min(left,
                                Integer.MAX_VALUE))).allTopicNames().get(left, TimeUnit.MILLISECONDS)
                        .forEach((topic, description) -> counts.put(topic, description.partitions().size()));
                return Map.copyOf(counts);
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while describing " + topics, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot describe " + topics + " at " + settings.bootstrapServers(), e);
        }
    }

    /** How many partitions {@code topic} has now (blocking, {@link #partitionCounts}). */
    public static int partitionCount(KafkaSettings settings, String topic, long timeoutMillis) {
        return partitionCounts(settings, List.of(topic), timeoutMillis).get(topic);
    }

    /**
     * How long after it was written a record of {@code topic} may still be read: its {@code retention.ms} plus its
     * {@code segment.ms}, as the broker applies them (the topic's own, else the broker's default). A log segment is
     * deleted only once its newest record is past the retention, and a segment takes records for up to
     * {@code segment.ms}. Null when the topic keeps its records for ever ({@code retention.ms} -1). A topic created a
     * moment ago can still be unknown to the broker that answers: that is waited out until {@code timeoutMillis}.
     */
    public static Duration rereadWindow(KafkaSettings settings, String topic, long timeoutMillis) {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try (Admin admin = Admin.create(adminProperties(settings, Map.of()))) {
            Config config = describeConfigs(admin, List.of(resource), timeoutMillis).get(resource);
            long retention = Long.parseLong(config.get(TopicConfig.RETENTION_MS_CONFIG).value());
            long segment = Long.parseLong(config.get(TopicConfig.SEGMENT_MS_CONFIG).value());
            return retention < 0 ? null : Duration.ofMillis(retention).plusMillis(segment);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the configuration of " + topic, e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read the configuration of " + topic + " at "
                    + settings.bootstrapServers(), e);
        }
    }

    /** The admin client's properties: the settings' client properties, then the bootstrap servers and {@code own}. */
    static Map<String, Object> adminProperties(KafkaSettings settings, Map<String, Object> own) {
        Map<String, Object> props = new HashMap<>(settings.overrides());
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        props.putAll(own);
        return props;
    }

    /** Whether this call created the topic: false when it exists already, made by someone else. */
    private static boolean awaitCreated(org.apache.kafka.common.KafkaFuture<Void> future, long timeoutMillis)
            throws InterruptedException, TimeoutException, ExecutionException {
        try {
            future.get(timeoutMillis, TimeUnit.MILLISECONDS);
            return true;
        } catch (ExecutionException e) {
            // Another instance starting at the same moment created it first: the topic is there, its policy to check.
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
            return false;
        }
    }
}
