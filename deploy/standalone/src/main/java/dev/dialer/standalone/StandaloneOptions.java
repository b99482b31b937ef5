package dev.dialer.standalone;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the standalone stack is told on its command line. Options of the stack itself are
 * {@code --dialer.standalone.<name>=<value>}; every other {@code --key=value} is a Spring property passed to all three
 * services (each ignores what it does not know).
 *
 * @param dataDir        the only place the stack writes: PostgreSQL data, Kafka logs, the demo key
 * @param apiPort        api-service HTTP port (0 = free port)
 * @param dispatcherPort dispatcher-service HTTP port
 * @param webhookPort    webhook-service HTTP port
 * @param simulatorPort  carrier simulator HTTP port
 * @param kafkaPort      embedded Kafka broker port, reachable by outside producers such as kcat
 * @param postgresPort   embedded PostgreSQL port
 * @param partitions     partitions of the work topics
 * @param ringTime       simulator ring time
 * @param talkTime       simulator talk time
 * @param services       which of {@code dispatcher}, {@code webhook} and {@code api} to run (all by default; fewer to
 *                       measure one alone, e.g. {@code api} for the send path without dialling)
 * @param springArgs     the remaining arguments, passed to every service
 */
public record StandaloneOptions(
        Path dataDir,
        int apiPort,
        int dispatcherPort,
        int webhookPort,
        int simulatorPort,
        int kafkaPort,
        int postgresPort,
        int partitions,
        Duration ringTime,
        Duration talkTime,
        Set<String> services,
        List<String> springArgs) {

    /** Every service, in the order they start. */
    public static final List<String> ALL_SERVICES = List.of("dispatcher", "webhook", "api");

    private static final String PREFIX = "--dialer.standalone.";

    public static StandaloneOptions defaults() {
        return new StandaloneOptions(Path.of("dialer-data"), 8080, 8081, 8082, 8090, 9092, 15432, 6,
                Duration.ofSeconds(2), Duration.ofSeconds(5), Set.copyOf(ALL_SERVICES), List.of());
    }

    /** Reads {@code args}; unknown stack options are an error so that a typo does not pass silently. */
    public static StandaloneOptions parse(String... args) {
        Map<String, String> own = new LinkedHashMap<>();
        List<String> spring = new ArrayList<>();
        for (String arg : args) {
            if (arg.startsWith(PREFIX) && arg.contains("=")) {
                own.put(arg.substring(PREFIX.length(), arg.indexOf('=')), arg.substring(arg.indexOf('=') + 1));
            } else {
                spring.add(arg);
            }
        }
        StandaloneOptions d = defaults();
        StandaloneOptions options = new StandaloneOptions(
                Path.of(own.getOrDefault("data-dir", d.dataDir().toString())),
                port(own, "api-port", d.apiPort()),
                port(own, "dispatcher-port", d.dispatcherPort()),
                port(own, "webhook-port", d.webhookPort()),
                port(own, "simulator-port", d.simulatorPort()),
                port(own, "kafka-port", d.kafkaPort()),
                port(own, "postgres-port", d.postgresPort()),
                Integer.parseInt(own.getOrDefault("partitions", Integer.toString(d.partitions()))),
                Duration.parse(own.getOrDefault("ring-time", d.ringTime().toString())),
                Duration.parse(own.getOrDefault("talk-time", d.talkTime().toString())),
                services(own.getOrDefault("services", String.join(",", ALL_SERVICES))),
                List.copyOf(spring));
        List<String> known = List.of("data-dir", "api-port", "dispatcher-port", "webhook-port", "simulator-port",
                "kafka-port", "postgres-port", "partitions", "ring-time", "talk-time", "services");
        own.keySet().stream().filter(key -> !known.contains(key)).findFirst().ifPresent(key -> {
            throw new IllegalArgumentException("unknown option " + PREFIX + key + "; known: " + known);
        });
        return options;
    }

    private static Set<String> services(String list) {
        Set<String> services = new LinkedHashSet<>();
        for (String name : list.split(",")) {
            String service = name.trim();
            if (!ALL_SERVICES.contains(service)) {
                throw new IllegalArgumentException(PREFIX + "services names " + ALL_SERVICES + ", not '" + service
                        + "'");
            }
            services.add(service);
        }
        if (services.isEmpty()) {
            throw new IllegalArgumentException(PREFIX + "services must name at least one of " + ALL_SERVICES);
        }
        return Set.copyOf(services);
    }

    private static int port(Map<String, String> own, String name, int fallback) {
        int port = Integer.parseInt(own.getOrDefault(name, Integer.toString(fallback)));
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(PREFIX + name + " must be a port number, was " + port);
        }
        return port;
    }

    /** The same options with every port 0 (free ports), for tests. */
    public StandaloneOptions withFreePorts() {
        return new StandaloneOptions(dataDir, 0, 0, 0, 0, 0, 0, partitions, ringTime, talkTime, services, springArgs);
    }

    public StandaloneOptions withDataDir(Path dir) {
        return new StandaloneOptions(dir, apiPort, dispatcherPort, webhookPort, simulatorPort, kafkaPort,
                postgresPort, partitions, ringTime, talkTime, services, springArgs);
    }

    public StandaloneOptions withTimes(Duration ring, Duration talk) {
        return new StandaloneOptions(dataDir, apiPort, dispatcherPort, webhookPort, simulatorPort, kafkaPort,
                postgresPort, partitions, ring, talk, services, springArgs);
    }
}
