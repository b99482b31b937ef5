package dev.dialer.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.kafka.Topics;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Parameter;
import java.lang.reflect.RecordComponent;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.context.annotation.ClassPathScanningCandidateComponentProvider;
import org.springframework.core.type.filter.AnnotationTypeFilter;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The deployment files say what the services read: every environment variable that {@code docker-compose.yml} and
 * {@code deploy/k8s} give a service names one of its properties (a misspelt one is silently ignored by Spring, and
 * the service runs on its default), the containers listen where the service does, the probes ask the health groups
 * it has, and KEDA scales on the consumer groups and topics the services really use. The upgrade guide names every
 * migration that holds a service's start for long.
 */
class DeploymentManifestsTest {

    private static final Path ROOT = Path.of("..", "..");
    private static final Path K8S = ROOT.resolve(Path.of("deploy", "k8s"));
    private static final Map<String, String> PACKAGES = Map.of(
            "api-service", "dev.dialer.api",
            "dispatcher-service", "dev.dialer.dispatcher",
            "webhook-service", "dev.dialer.webhook");
    /**
     * Read by the JVM, not by the service, and Spring Boot's document of properties in JSON (which docs/pacing.md
     * advises for keyed overrides).
     */
    private static final Set<String> JVM_VARIABLES = Set.of("JAVA_TOOL_OPTIONS", "SPRING_APPLICATION_JSON");
    /** A Flyway migration's file name, and its version. */
    private static final Pattern MIGRATION = Pattern.compile("(V\\d+)__.*\\.sql");
    /**
     * Statements that take minutes on a large table: an index built without locking writes, a stored generated column
     * (the table rewritten under an exclusive lock), a column's type changed (its indexes rebuilt under one, the table
     * too unless the old type is binary coercible to the new).
     */
    private static final List<Pattern> SLOW_STATEMENTS = List.of(
            Pattern.compile("CREATE\\s+(UNIQUE\\s+)?INDEX\\s+CONCURRENTLY", Pattern.CASE_INSENSITIVE),
            Pattern.compile("GENERATED\\s+ALWAYS\\s+AS\\s*\\([^;]*\\)\\s*STORED", Pattern.CASE_INSENSITIVE),
            Pattern.compile("ALTER\\s+COLUMN\\s+\\S+\\s+(SET\\s+DATA\\s+)?TYPE", Pattern.CASE_INSENSITIVE));
    /** The upgrade guide's name of each service, and a migration's version. */
    private static final Pattern SERVICE_OR_VERSION =
            Pattern.compile("\\b(api-service|dispatcher|webhook-service)|\\b(V\\d+)\\b");
    private static final Map<String, String> GUIDE_NAMES = Map.of(
            "api-service", "api-service",
            "dispatcher", "dispatcher-service",
            "webhook-service", "webhook-service");

    @ParameterizedTest
    @ValueSource(strings = {"api-service", "dispatcher-service", "webhook-service"})
    void everyVariableComposeGivesAServiceNamesOneOfItsProperties(String service) throws IOException {
        Map<String, Object> compose = yaml(ROOT.resolve("docker-compose.yml")).get(0);
        Map<String, Object> definition = map(map(compose.get("services")).get(service));
        Set<String> variables = map(definition.get("environment")).keySet();

        assertThat(variables).isNotEmpty();
        assertThat(unknown(service, variables)).as("variables of %s in docker-compose.yml", service).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"api-service", "dispatcher-service", "webhook-service"})
    void everyVariableKubernetesGivesAServiceNamesOneOfItsProperties(String service) throws IOException {
        Map<String, Object> container = container(service);
        Set<String> variables = new HashSet<>(configMap().keySet());
        for (Object variable : list(container.get("env"))) {
            variables.add((String) map(variable).get("name"));
        }

        assertThat(list(container.get("envFrom"))).as("the ConfigMap is every service's")
                .anySatisfy(from -> assertThat(map(map(from).get("configMapRef")).get("name"))
                        .isEqualTo("dialer-config"));
        assertThat(unknown(service, variables)).as("variables of %s in deploy/k8s", service).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"api-service", "dispatcher-service", "webhook-service"})
    void containersListenWhereTheServiceDoesAndProbeItsHealthGroups(String service) throws IOException {
        Map<String, Object> container = container(service);
        int port = (Integer) map(map(serviceYaml(service).get("server"))).get("port");

        Map<String, Object> http = map(list(container.get("ports")).get(0));
        assertThat(http.get("containerPort")).isEqualTo(port);
        assertThat(probePath(container, "livenessProbe")).isEqualTo("/actuator/health/liveness");
        assertThat(probePath(container, "startupProbe")).isEqualTo("/actuator/health/liveness");
        assertThat(probePath(container, "readinessProbe")).isEqualTo("/actuator/health/readiness");
        for (String probe : List.of("livenessProbe", "startupProbe", "readinessProbe")) {
            assertThat(containerPort(container, probePort(container, probe))).as("%s of %s", probe, service)
                    .isEqualTo(managementPort(service));
        }
        assertThat(String.valueOf(path(serviceYaml(service), "management", "endpoints", "web", "exposure", "include")))
                .contains("health").contains("prometheus");
        assertThat(String.valueOf(path(serviceYaml(service), "management", "endpoint", "health", "probes",
                "enabled"))).isEqualTo("true");

        Map<String, Object> kubernetesService = resource("base/" + service + ".yaml", "Service");
        Map<String, Object> servicePort = map(list(map(kubernetesService.get("spec")).get("ports")).get(0));
        assertThat(servicePort.get("port")).isEqualTo(port);
        assertThat(servicePort.get("targetPort")).isEqualTo(http.get("name"));
    }

    /**
     * The services that take requests from outside (sends, carrier callbacks) pause before stopping, while the Service
     * stops sending them requests, and the grace period leaves the graceful shutdown its time after the pause.
     */
    @ParameterizedTest
    @ValueSource(strings = {"api-service", "dispatcher-service"})
    void servicesTakingRequestsPauseBeforeTheyStopWithinTheirGracePeriod(String service) throws IOException {
        List<Object> command = list(path(container(service), "lifecycle", "preStop", "exec", "command"));
        assertThat(command).hasSize(2).first().isEqualTo("sleep");
        int pause = Integer.parseInt(String.valueOf(command.get(1)));
        assertThat(pause).isBetween(5, 15);

        Map<String, Object> deployment = resource("base/" + service + ".yaml", "Deployment");
        Object grace = path(deployment, "spec", "template", "spec", "terminationGracePeriodSeconds");
        // Spring Boot's shutdown phase timeout is 30 s.
        assertThat((Integer) grace).as("grace period of %s", service).isGreaterThanOrEqualTo(pause + 30);
    }

    /**
     * On compose every container comes back after the host or Docker restarts (Kafka and PostgreSQL too, or the
     * services come back to nothing), and a service's stop gets Spring's 30 s shutdown phase, not Docker's 10 s.
     */
    @Test
    void composeRestartsEveryContainerAndGivesTheServicesTheirShutdown() throws IOException {
        Map<String, Object> services = map(yaml(ROOT.resolve("docker-compose.yml")).get(0).get("services"));
        for (Map.Entry<String, Object> service : services.entrySet()) {
            Map<String, Object> definition = map(service.getValue());
            assertThat(definition.get("restart")).as("restart of %s", service.getKey()).isEqualTo("unless-stopped");
        }
        for (String service : List.of("api-service", "dispatcher-service", "webhook-service")) {
            String grace = String.valueOf(map(services.get(service)).get("stop_grace_period"));
            assertThat(grace).as("stop_grace_period of %s", service).matches("[0-9]+s");
            assertThat(Integer.parseInt(grace.substring(0, grace.length() - 1))).as(service).isGreaterThan(30);
        }
    }

    @Test
    void kedaScalesOnTheGroupsAndTopicsTheServicesConsume() throws Exception {
        Map<String, String> expected = Map.of(
                "dispatcher-service", groupDefault("dev.dialer.dispatcher.command.CommandConsumerProperties",
                        "groupId") + " " + Topics.CALL_COMMANDS,
                "webhook-service", constant("dev.dialer.webhook.delivery.CallEventConsumer", "GROUP") + " "
                        + Topics.CALL_EVENTS);
        int partitions = Integer.parseInt(configMap().get("DIALER_KAFKA_PARTITIONS"));

        List<Map<String, Object>> scaled = resources("keda/scaled-objects.yaml", "ScaledObject");
        assertThat(scaled).hasSize(expected.size());
        for (Map<String, Object> object : scaled) {
            Map<String, Object> spec = map(object.get("spec"));
            String target = (String) map(spec.get("scaleTargetRef")).get("name");
            Map<String, Object> trigger = map(map(list(spec.get("triggers")).get(0)).get("metadata"));
            assertThat(trigger.get("consumerGroup") + " " + trigger.get("topic")).as(target)
                    .isEqualTo(expected.get(target));
            assertThat(trigger.get("bootstrapServers")).as(target)
                    .isEqualTo(configMap().get("DIALER_KAFKA_BOOTSTRAP_SERVERS"));
            assertThat((Integer) spec.get("maxReplicaCount")).as("%s: no more replicas than partitions", target)
                    .isLessThanOrEqualTo(partitions);
        }
    }

    @Test
    void theImagesTheDeploymentsNameAreTheOnesTheKustomizationTags() throws IOException {
        List<Object> images = list(yaml(K8S.resolve("base/kustomization.yaml")).get(0).get("images"));
        Set<Object> tagged = new HashSet<>();
        images.forEach(image -> tagged.add(map(image).get("name")));

        for (String service : PACKAGES.keySet()) {
            assertThat(tagged).contains(container(service).get("image"));
        }
    }

    /**
     * docs/kubernetes.md tells operators which versions to raise the startup probe for: each of the service's
     * migrations that builds an index {@code CONCURRENTLY}, adds a stored generated column or changes a column's type
     * is named there. A version counts for the service the guide names last before it ("the dispatcher's V50, V57
     * …"), so that one service's V9 is not taken for another's.
     */
    @ParameterizedTest
    @ValueSource(strings = {"api-service", "dispatcher-service", "webhook-service"})
    void theUpgradeGuideNamesEveryMigrationThatTakesLongOnALargeTable(String service) throws IOException {
        List<String> slow = slowMigrations(service);

        assertThat(slow).as("the migrations of %s that take long", service).isNotEmpty();
        assertThat(versionsNamed(upgradeGuide()).getOrDefault(service, Set.of()))
                .as("the versions of %s that docs/kubernetes.md names under Upgrades", service).containsAll(slow);
    }

    /** The versions of {@code service}'s migrations holding one of {@link #SLOW_STATEMENTS}. */
    private static List<String> slowMigrations(String service) throws IOException {
        Path migrations = ROOT.resolve(Path.of(service, "src", "main", "resources", "db", "migration"));
        List<String> slow = new ArrayList<>();
        try (Stream<Path> files = Files.walk(migrations)) {
            for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                Matcher name = MIGRATION.matcher(file.getFileName().toString());
                // The statements only: a comment may say in words what another migration does.
                String statements = Files.readString(file).replaceAll("--.*", "");
                if (name.matches() && SLOW_STATEMENTS.stream().anyMatch(slowly -> slowly.matcher(statements).find())) {
                    slow.add(name.group(1));
                }
            }
        }
        return slow;
    }

    /** The section "Upgrades" of docs/kubernetes.md. */
    private static String upgradeGuide() throws IOException {
        String guide = Files.readString(ROOT.resolve(Path.of("docs", "kubernetes.md")));
        int start = guide.indexOf("\n## Upgrades\n");
        assertThat(start).as("docs/kubernetes.md has a section Upgrades").isNotNegative();
        int end = guide.indexOf("\n## ", start + 1);
        return guide.substring(start, end < 0 ? guide.length() : end);
    }

    /** The versions {@code text} names, by the service named last before each. */
    private static Map<String, Set<String>> versionsNamed(String text) {
        Map<String, Set<String>> named = new HashMap<>();
        String service = null;
        Matcher token = SERVICE_OR_VERSION.matcher(text);
        while (token.find()) {
            if (token.group(1) != null) {
                service = GUIDE_NAMES.get(token.group(1));
            } else if (service != null) {
                named.computeIfAbsent(service, unnamed -> new HashSet<>()).add(token.group(2));
            }
        }
        return named;
    }

    /** The variables of {@code variables} that name none of {@code service}'s properties. */
    private static List<String> unknown(String service, Set<String> variables) {
        Properties known = Properties.of(service);
        return variables.stream().filter(variable -> !JVM_VARIABLES.contains(variable) && !known.bind(variable))
                .sorted().toList();
    }

    @Test
    void springBootsOwnPropertiesAreKnownToEveryServiceAndAMisspeltOneIsNot() {
        // docs/kubernetes.md has pools shrunk with SPRING_R2DBC_POOL_MAX_SIZE, which no service's YAML names.
        assertThat(unknown("dispatcher-service", Set.of("SPRING_R2DBC_POOL_MAX_SIZE", "SPRING_R2DBC_POOL_MAXSIZE",
                "LOGGING_LEVEL_DEV_DIALER", "SPRING_APPLICATION_JSON"))).isEmpty();
        assertThat(unknown("dispatcher-service", Set.of("SPRING_R2DBC_POOL_MAX_SIZES", "SPRING_R2DBC_POOLS_MAX_SIZE")))
                .containsExactly("SPRING_R2DBC_POOLS_MAX_SIZE", "SPRING_R2DBC_POOL_MAX_SIZES");
    }

    /**
     * A service's property names: the keys of its {@code <service>.yml}, those of its {@code @ConfigurationProperties}
     * records, nested records included, and Spring Boot's own (its jars' configuration metadata); a map's keys are
     * free.
     */
    private record Properties(Set<String> names, Set<String> freePrefixes) {

        static Properties of(String service) {
            Properties properties = new Properties(new HashSet<>(), new HashSet<>());
            properties.addKeys("", serviceYaml(service));
            properties.addSpringBoot();
            ClassPathScanningCandidateComponentProvider scanner =
                    new ClassPathScanningCandidateComponentProvider(false);
            scanner.addIncludeFilter(new AnnotationTypeFilter(ConfigurationProperties.class));
            for (BeanDefinition definition : scanner.findCandidateComponents(PACKAGES.get(service))) {
                try {
                    Class<?> type = Class.forName(definition.getBeanClassName());
                    ConfigurationProperties annotation = type.getAnnotation(ConfigurationProperties.class);
                    String prefix = annotation.prefix().isEmpty() ? annotation.value() : annotation.prefix();
                    properties.addRecord(prefix, type);
                } catch (ClassNotFoundException e) {
                    throw new IllegalStateException(e);
                }
            }
            return properties;
        }

        private void addKeys(String prefix, Map<String, Object> yaml) {
            yaml.forEach((key, value) -> {
                String name = prefix.isEmpty() ? key : prefix + "." + key;
                if (value instanceof Map<?, ?> nested) {
                    addKeys(name, map(nested));
                } else {
                    names.add(name);
                }
            });
        }

        /** The properties Spring Boot's jars describe in {@code META-INF/spring-configuration-metadata.json}. */
        private void addSpringBoot() {
            JsonMapper json = JsonMapper.builder().build();
            try {
                Enumeration<URL> files = DeploymentManifestsTest.class.getClassLoader()
                        .getResources("META-INF/spring-configuration-metadata.json");
                while (files.hasMoreElements()) {
                    try (InputStream in = files.nextElement().openStream()) {
                        for (JsonNode property : json.readTree(in).path("properties")) {
                            String name = property.path("name").asText();
                            if (property.path("type").asText().startsWith("java.util.Map")) {
                                freePrefixes.add(name);
                            } else {
                                names.add(name);
                            }
                        }
                    }
                }
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        private void addRecord(String prefix, Class<?> type) {
            for (RecordComponent component : type.getRecordComponents()) {
                String name = prefix + "." + kebab(component.getName());
                if (component.getType().isRecord()) {
                    addRecord(name, component.getType());
                } else if (Map.class.isAssignableFrom(component.getType())) {
                    freePrefixes.add(name);
                } else {
                    names.add(name);
                }
            }
        }

        /** Whether Spring binds environment variable {@code variable} to one of these properties. */
        boolean bind(String variable) {
            return names.stream().anyMatch(name -> variableForms(name).contains(variable))
                    || freePrefixes.stream().anyMatch(prefix -> variableForms(prefix).stream()
                            .anyMatch(form -> variable.startsWith(form + "_")));
        }

        /** Spring's names for a property in the environment: dashes dropped, or (the legacy form) underscores. */
        private static Set<String> variableForms(String property) {
            String upper = property.toUpperCase(Locale.ROOT).replace('.', '_');
            return new HashSet<>(List.of(upper.replace("-", ""), upper.replace('-', '_')));
        }

        private static String kebab(String camel) {
            return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
        }
    }

    private static String groupDefault(String className, String component) throws ClassNotFoundException {
        Class<?> type = Class.forName(className);
        Class<?>[] parameterTypes = Arrays.stream(type.getRecordComponents()).map(RecordComponent::getType)
                .toArray(Class<?>[]::new);
        try {
            Constructor<?> canonical = type.getDeclaredConstructor(parameterTypes);
            List<String> names = Arrays.stream(type.getRecordComponents()).map(RecordComponent::getName).toList();
            Parameter parameter = canonical.getParameters()[names.indexOf(component)];
            return parameter.getAnnotation(DefaultValue.class).value()[0];
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String constant(String className, String field) throws Exception {
        Field constant = Class.forName(className).getDeclaredField(field);
        constant.setAccessible(true);
        return (String) constant.get(null);
    }

    private static Map<String, Object> container(String service) throws IOException {
        Map<String, Object> deployment = resource("base/" + service + ".yaml", "Deployment");
        Map<String, Object> pod = map(map(map(deployment.get("spec")).get("template")).get("spec"));
        return map(list(pod.get("containers")).get(0));
    }

    private static Map<String, String> configMap() throws IOException {
        Map<String, String> data = new HashMap<>();
        map(resource("base/config.yaml", "ConfigMap").get("data")).forEach((key, value) -> data.put(key,
                String.valueOf(value)));
        return data;
    }

    /** Where {@code service} serves health and metrics: its management port, or its one port. */
    private static int managementPort(String service) {
        Object server = map(serviceYaml(service).get("management")).get("server");
        Object port = server == null ? map(serviceYaml(service).get("server")).get("port") : map(server).get("port");
        return (Integer) port;
    }

    @Test
    void prometheusScrapesEachServiceWhereItServesItsMetrics() throws IOException {
        Path prometheus = K8S.resolveSibling("prometheus").resolve("prometheus.yml");
        Map<String, Object> job = list(yaml(prometheus).get(0).get("scrape_configs")).stream().map(s -> map(s))
                .filter(config -> "dialer".equals(config.get("job_name"))).findFirst().orElseThrow();
        Map<String, Integer> scraped = new HashMap<>();
        for (Object target : list(job.get("dns_sd_configs"))) {
            scraped.put((String) list(map(target).get("names")).get(0), (Integer) map(target).get("port"));
        }
        for (String service : PACKAGES.keySet()) {
            assertThat(scraped.get(service)).as(service).isEqualTo(managementPort(service));
        }

        Map<String, Object> podMonitor = resource("monitoring/pod-monitor.yaml", "PodMonitor");
        Set<Object> ports = new HashSet<>();
        list(map(podMonitor.get("spec")).get("podMetricsEndpoints")).forEach(e -> ports.add(map(e).get("port")));
        for (String service : PACKAGES.keySet()) {
            Map<String, Object> container = container(service);
            String named = list(container.get("ports")).stream().map(p -> map(p))
                    .filter(p -> p.get("containerPort").equals(managementPort(service)))
                    .map(p -> (String) p.get("name")).findFirst().orElseThrow();
            assertThat(ports).as("the PodMonitor scrapes %s's port %s", service, named).contains(named);
        }
    }

    private static String probePort(Map<String, Object> container, String probe) {
        return (String) map(map(container.get(probe)).get("httpGet")).get("port");
    }

    private static Object containerPort(Map<String, Object> container, String name) {
        return list(container.get("ports")).stream().map(p -> map(p)).filter(p -> name.equals(p.get("name")))
                .map(p -> p.get("containerPort")).findFirst().orElse(null);
    }

    private static String probePath(Map<String, Object> container, String probe) {
        return (String) map(map(container.get(probe)).get("httpGet")).get("path");
    }

    private static Map<String, Object> resource(String file, String kind) throws IOException {
        List<Map<String, Object>> found = resources(file, kind);
        assertThat(found).as("%s in %s", kind, file).hasSize(1);
        return found.get(0);
    }

    private static List<Map<String, Object>> resources(String file, String kind) throws IOException {
        return yaml(K8S.resolve(file)).stream().filter(document -> kind.equals(document.get("kind"))).toList();
    }

    private static Map<String, Object> serviceYaml(String service) {
        try (InputStream in = DeploymentManifestsTest.class.getResourceAsStream("/" + service + ".yml")) {
            assertThat(in).as("%s.yml on the class path", service).isNotNull();
            return new Yaml().load(in);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<Map<String, Object>> yaml(Path file) throws IOException {
        List<Map<String, Object>> documents = new ArrayList<>();
        for (Object document : new Yaml(new LoaderOptions()).loadAll(Files.readString(file))) {
            if (document != null) {
                documents.add(map(document));
            }
        }
        return documents;
    }

    private static Object path(Map<String, Object> yaml, String... keys) {
        Object node = yaml;
        for (String key : keys) {
            node = map(node).get(key);
        }
        return node;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object node) {
        assertThat(node).isInstanceOf(Map.class);
        return (Map<String, Object>) node;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object node) {
        assertThat(node).isInstanceOf(List.class);
        return (List<Object>) node;
    }
}
