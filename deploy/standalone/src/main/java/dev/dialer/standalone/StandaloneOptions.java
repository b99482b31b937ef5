package dev.dialer.standalone;

import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
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
            } else if (arg.startsWith(PREFIX)) {
                // Its value would have gone to the services as an argument of their own, and the option unread.
                throw new IllegalArgumentException(arg + " needs its value after '=': " + arg + "=<value>");
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
                number(own, "partitions", d.partitions(), 1, 1_000),
                duration(own, "ring-time", d.ringTime()),
                duration(own, "talk-time", d.talkTime()),
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
        return number(own, name, fallback, 0, 65535);
    }

    /** The option's whole number from {@code min} to {@code max}, or an error naming it. */
    private static int number(Map<String, String> own, String name, int fallback, int min, int max) {
        String text = own.getOrDefault(name, Integer.toString(fallback));
        try {
            int value = Integer.parseInt(text.strip());
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // Refused below, with the option's name.
        }
        throw new IllegalArgumentException(PREFIX + name + " must be a whole number from " + min + " to " + max
                + ", was '" + text + "'");
    }

    /** The option's ISO-8601 duration, zero or more, or an error naming it. */
    private static Duration duration(Map<String, String> own, String name, Duration fallback) {
        String text = own.getOrDefault(name, fallback.toString());
        try {
            Duration value = Duration.parse(text.strip());
            if (!value.isNegative()) {
                return value;
            }
        } catch (DateTimeParseException e) {
            // Refused below, with the option's name.
        }
        throw new IllegalArgumentException(PREFIX + name + " must be an ISO-8601 duration such as PT2S, was '" + text
                + "'");
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
