package dev.dialer.standalone;

import dev.dialer.api.ApiApplication;
import dev.dialer.dispatcher.DispatcherApplication;
import dev.dialer.dispatcher.callback.StatusHookUrl;
import dev.dialer.infra.EmbeddedKafka;
import dev.dialer.infra.EmbeddedPostgresServer;
import dev.dialer.infra.FreePorts;
import dev.dialer.simulator.Application;
import dev.dialer.simulator.CarrierSimulator;
import dev.dialer.simulator.OutcomeRule;
import dev.dialer.simulator.SimulatorSettings;
import dev.dialer.webhook.WebhookApplication;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.client.ReactorResourceFactory;

/**
 * The whole dialer in one JVM on its embedded default: PostgreSQL, a Kafka broker, the carrier simulator and the
 * three services, each service a separate Spring application with its own configuration file, schema and port.
 * Everything it writes stays under {@link StandaloneOptions#dataDir()}.
 */
public final class StandaloneStack implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(StandaloneStack.class);
    static final String DEMO_ACCOUNT = "demo";

    private final EmbeddedPostgresServer postgres;
    private final EmbeddedKafka kafka;
    private final CarrierSimulator simulator;
    private final Map<String, ConfigurableApplicationContext> services;
    private final String demoApiKey;

    private StandaloneStack(EmbeddedPostgresServer postgres, EmbeddedKafka kafka, CarrierSimulator simulator,
                            Map<String, ConfigurableApplicationContext> services, String demoApiKey) {
        this.postgres = postgres;
        this.kafka = kafka;
        this.simulator = simulator;
        this.services = services;
        this.demoApiKey = demoApiKey;
    }

    /** Starts everything; on a failure, what had started is stopped again before the error is thrown. */
    public static StandaloneStack start(StandaloneOptions options) {
        Path dataDir = options.dataDir().toAbsolutePath();
        KeptSecret.ownerOnlyFolder(dataDir);
        String demoKey = demoApiKey(dataDir);
        String hookSigningKey = hookSigningKey(dataDir);
        String simulatorSecret = "sim-" + randomToken(16);
        List<AutoCloseable> started = Collections.synchronizedList(new ArrayList<>());
        // Ctrl-C while the stack starts stops what has started: PostgreSQL runs in a process of its own, which would
        // outlive this one, holding its port. Once started, the stack is its owner's to close (Standalone's own hook).
        // A server still starting is not among them yet: its pid file names it (this process holds its directory).
        Thread stopStarted = new Thread(() -> {
            closeAll(started);
            EmbeddedPostgresServer.stopStale(dataDir.resolve("postgres"));
        }, "dialer-standalone-starting");
        Runtime.getRuntime().addShutdownHook(stopStarted);
        try {
            // Stopped by close(), last: the services first, so that none logs its database gone while it stops.
            EmbeddedPostgresServer postgres = EmbeddedPostgresServer.start(dataDir.resolve("postgres"),
                    options.postgresPort(), false, false);
            started.add(postgres);
            EmbeddedKafka kafka = EmbeddedKafka.start(dataDir.resolve("kafka"), options.kafkaPort());
            started.add(kafka);
            // Known before the dispatcher starts: the simulator's applications post their calls' statuses there.
            int dispatcherPort = FreePorts.orFree(options.dispatcherPort());
            // A number ending in 3 is refused for capacity at every other dial, not at every one: refused at each,
            // it would hold the trunk's concurrency at its floor, and every other call with it, while it is requeued.
            CarrierSimulator simulator = CarrierSimulator.start(applications(SimulatorSettings.defaults()
                    .withOutcomeRule(OutcomeRule.lastDigitCapacityPasses())
                    .withPort(options.simulatorPort())
                    .withWebhookSecret(simulatorSecret)
                    .withRingTime(options.ringTime())
                    .withTalkTime(options.talkTime())
                    // In the same JVM as the services: a stack left running keeps no call for ever.
                    .withKeepCalls(SimulatorSettings.KEEP_CALLS_RUNNING), options, dispatcherPort));
            started.add(simulator);
            List<String> shared = sharedArgs(options, postgres, kafka);
            Map<String, ConfigurableApplicationContext> services = new LinkedHashMap<>();
            List<String> api = new ArrayList<>(List.of(
                    "--dialer.api.bootstrap.account-id=" + DEMO_ACCOUNT,
                    "--dialer.api.bootstrap.api-key=" + demoKey,
                    // The same key as webhook-service's: the secret an account reads is the one its hooks carry.
                    "--dialer.api.hooks.signing-key=" + hookSigningKey,
                    // One port for the local stack, as the other services have: health and metrics beside the API
                    // (empty: Spring's default, the server's port), not on the port of their own a deployment uses.
                    "--management.server.port="));
            List<String> dispatcher = new ArrayList<>(List.of(
                    "--dialer.dispatcher.carrier.base-url=" + simulator.baseUrl(),
                    "--dialer.dispatcher.carrier.webhook-secret=" + simulatorSecret,
                    // Each call's tag sealed, as a deployment's should be (docs/carriers.md). A key of this run's own:
                    // the simulator's calls end with the process, so no call outlives it.
                    "--dialer.dispatcher.carrier.tag-keys=tag-" + randomToken(16)));
            windowArg(options.springArgs(), CALLING_WINDOW).ifPresent(dispatcher::add);
            windowArg(options.springArgs(), PREVIEW_CALLING_WINDOW).ifPresent(api::add);
            api.addAll(hookArgs(options.springArgs()));
            if (options.services().contains("dispatcher")) {
                services.put("dispatcher", run(DispatcherApplication.class, "dispatcher-service",
                        dispatcherPort, shared, options.springArgs(), dispatcher.toArray(String[]::new)));
                started.add(services.get("dispatcher"));
            }
            if (options.services().contains("webhook")) {
                services.put("webhook", run(WebhookApplication.class, "webhook-service", options.webhookPort(),
                        shared, options.springArgs(), "--dialer.webhook.delivery.hook-signing-key=" + hookSigningKey,
                        // A local stack delivers to receivers on this machine; the service's default allows none.
                        "--dialer.webhook.delivery.allowed-hosts=" + LOCAL_HOSTS));
                started.add(services.get("webhook"));
            }
            if (options.services().contains("api")) {
                services.put("api", run(ApiApplication.class, "api-service", options.apiPort(), shared,
                        options.springArgs(), api.toArray(String[]::new)));
            }
            StandaloneStack stack = new StandaloneStack(postgres, kafka, simulator, services, demoKey);
            forget(stopStarted);
            return stack;
        } catch (RuntimeException e) {
            forget(stopStarted);
            closeAll(started);
            throw e;
        }
    }

    /** The start-up's shutdown hook is no longer needed; during a shutdown it runs (or ran) all the same. */
    private static void forget(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // The hook stops what started.
        }
    }

    /**
     * Every application of the simulator posts its calls' statuses to the dispatcher's status hook, as a Voice Gateway
     * whose applications are set up for the dialer does: jambonz sends a call's statuses to its application's Call
     * Status Webhook, not to the hook the request names (docs/carriers.md). Without a dispatcher, nothing is set up.
     */
    static SimulatorSettings applications(SimulatorSettings settings, StandaloneOptions options, int dispatcherPort) {
        if (!options.services().contains("dispatcher")) {
            return settings;
        }
        String statusHook = given(options.springArgs(), "dialer.dispatcher.carrier.callback-url")
                .orElse("http://127.0.0.1:" + dispatcherPort + StatusHookUrl.PATH);
        return settings.withEveryOtherApplication(Application.postingStatusesTo(statusHook));
    }

    /**
     * The default calling window to give a service as {@code property} ({@link #CALLING_WINDOW} or
     * {@link #PREVIEW_CALLING_WINDOW}), unless {@code args} give it already. A local stack dials at any hour (the
     * simulator's callees never sleep; production keeps 09:00–21:00), and a window given for one of the two is the
     * other's too: the preview must answer what the dispatcher does.
     */
    static Optional<String> windowArg(List<String> args, String property) {
        if (given(args, property).isPresent()) {
            return Optional.empty();
        }
        String window = given(args, CALLING_WINDOW).or(() -> given(args, PREVIEW_CALLING_WINDOW))
                .orElse("00:00-00:00");
        return Optional.of("--" + property + "=" + window);
    }

    /**
     * api-service's plain-http settings ({@code dialer.api.hooks.plain-http}, {@code allowed-hosts}) as the local
     * stack's webhook-service has them: its {@link #LOCAL_HOSTS}, or what {@code args} give it instead. The API refuses
     * a URL whose try the delivery would refuse, so the two must say the same; a setting given for api-service itself
     * is left as given.
     */
    static List<String> hookArgs(List<String> args) {
        List<String> api = new ArrayList<>();
        for (String name : List.of("allowed-hosts", "plain-http")) {
            String property = "dialer.api.hooks." + name;
            if (given(args, property).isPresent()) {
                continue;
            }
            Optional<String> delivery = given(args, "dialer.webhook.delivery." + name);
            delivery.or(() -> name.equals("allowed-hosts") ? Optional.of(LOCAL_HOSTS) : Optional.empty())
                    .ifPresent(value -> api.add("--" + property + "=" + value));
        }
        return api;
    }

    /** The hosts a local stack delivers to over plain http: receivers on this machine. */
    static final String LOCAL_HOSTS = "127.0.0.1,localhost";

    /** The value of {@code --property=value} among {@code args}, the last one given; empty when none is. */
    private static Optional<String> given(List<String> args, String property) {
        String prefix = "--" + property + "=";
        Optional<String> found = Optional.empty();
        for (String arg : args) {
            if (arg.startsWith(prefix)) {
                found = Optional.of(arg.substring(prefix.length()));
            }
        }
        return found;
    }

    /** The dispatcher's default calling window; the standalone stack opens it all day unless told otherwise. */
    static final String CALLING_WINDOW = "dialer.dispatcher.policy.default-calling-window";
    /** The preview's copy of it, which must say the same. */
    static final String PREVIEW_CALLING_WINDOW = "dialer.api.preview.default-calling-window";

    private static List<String> sharedArgs(StandaloneOptions options, EmbeddedPostgresServer postgres,
                                           EmbeddedKafka kafka) {
        List<String> args = new ArrayList<>(List.of(
                "--dialer.kafka.bootstrap-servers=" + kafka.bootstrapServers(),
                "--dialer.kafka.partitions=" + options.partitions(),
                "--dialer.kafka.replication-factor=1",
                "--spring.r2dbc.url=" + postgres.r2dbcUrl(),
                "--spring.r2dbc.username=" + postgres.username(),
                "--spring.r2dbc.password=" + postgres.password(),
                "--spring.flyway.url=" + postgres.jdbcUrl(),
                "--spring.flyway.user=" + postgres.username(),
                "--spring.flyway.password=" + postgres.password(),
                "--spring.main.banner-mode=off",
                // The stack closes the services itself, in order, before Kafka and PostgreSQL.
                "--spring.main.register-shutdown-hook=false"));
        return args;
    }

    /** Keys the launcher sets per service and a user's argument may not change: all three services would share it. */
    private static final Set<String> PER_SERVICE = Set.of("spring.config.name", "spring.application.name",
            "server.port", "management.server.port");

    /**
     * The launcher's arguments and the user's, the user's winning: Spring joins repeated command-line keys with
     * commas ({@code --a=x --a=y} reads as {@code a=x,y}), so a launcher argument whose key the user gives is left
     * out. The per-service keys (the server's and the management server's ports, the service's name) stay the
     * launcher's.
     */
    static List<String> merged(List<String> launcher, List<String> user) {
        Set<String> userKeys = new HashSet<>();
        user.forEach(arg -> userKeys.add(key(arg)));
        List<String> args = new ArrayList<>();
        for (String arg : launcher) {
            if (PER_SERVICE.contains(key(arg)) || !userKeys.contains(key(arg))) {
                args.add(arg);
            }
        }
        for (String arg : user) {
            if (!PER_SERVICE.contains(key(arg))) {
                args.add(arg);
            }
        }
        return args;
    }

    /** The property an argument {@code --key=value} (or {@code --key}) sets. */
    private static String key(String arg) {
        String body = arg.startsWith("--") ? arg.substring(2) : arg;
        int equals = body.indexOf('=');
        return equals < 0 ? body : body.substring(0, equals);
    }

    private static ConfigurableApplicationContext run(Class<?> application, String name, int port,
                                                      List<String> shared, List<String> user, String... own) {
        List<String> launcher = new ArrayList<>();
        launcher.add("--spring.config.name=" + name);
        launcher.add("--spring.application.name=" + name);
        launcher.add("--server.port=" + port);
        launcher.addAll(List.of(own));
        launcher.addAll(shared);
        List<String> args = merged(launcher, user);
        long began = System.nanoTime();
        ConfigurableApplicationContext context = new SpringApplicationBuilder(application)
                .properties("spring.config.name=" + name)
                .initializers(StandaloneStack::ownNettyResources)
                .run(args.toArray(String[]::new));
        log.info("{} started on port {} in {} ms", name, context.getEnvironment().getProperty("local.server.port"),
                (System.nanoTime() - began) / 1_000_000);
        return context;
    }

    /**
     * The service's HTTP server and clients on Reactor Netty resources of its own, not the process's global ones: a
     * service's context disposes of global resources as it closes, and the services close one after another (api
     * first), so the next would lose its HTTP server, its carrier client and the simulator's server while it still
     * drains its dials and takes their callbacks.
     */
    private static void ownNettyResources(ConfigurableApplicationContext context) {
        context.getBeanFactory().addBeanPostProcessor(new BeanPostProcessor() {
            @Override
            public Object postProcessBeforeInitialization(Object bean, String name) {
                if (bean instanceof ReactorResourceFactory resources) {
                    resources.setUseGlobalResources(false);
                }
                return bean;
            }
        });
    }

    /** The running service's context, by its name in {@code services}; for tests. */
    ConfigurableApplicationContext service(String name) {
        return services.get(name);
    }

    public String demoApiKey() {
        return demoApiKey;
    }

    public String kafkaBootstrapServers() {
        return kafka.bootstrapServers();
    }

    public int postgresPort() {
        return postgres.port();
    }

    public CarrierSimulator simulator() {
        return simulator;
    }

    public int apiPort() {
        return port("api");
    }

    public int dispatcherPort() {
        return port("dispatcher");
    }

    public int webhookPort() {
        return port("webhook");
    }

    /** The service's HTTP port; -1 for a service this stack does not run. */
    private int port(String service) {
        ConfigurableApplicationContext context = services.get(service);
        return context == null ? -1
                : Integer.parseInt(context.getEnvironment().getProperty("local.server.port", "-1"));
    }

    /** Stops the services (api first, so nothing new comes in), then the simulator, Kafka and PostgreSQL. */
    @Override
    public void close() {
        List<AutoCloseable> order = new ArrayList<>(List.of(postgres, kafka, simulator));
        order.addAll(services.values());
        closeAll(order);
    }

    private static void closeAll(List<AutoCloseable> started) {
        for (int i = started.size() - 1; i >= 0; i--) {
            try {
                started.get(i).close();
            } catch (Exception e) {
                log.warn("{} did not stop cleanly", started.get(i).getClass().getSimpleName(), e);
            }
        }
    }

    /** The demo account's key, kept in the data folder so that it survives restarts. */
    private static String demoApiKey(Path dataDir) {
        return KeptSecret.in(dataDir.resolve("demo-api-key"), () -> "dk_" + randomToken(32));
    }

    /**
     * The key every account's hook secret is derived from, kept in the data folder so that the secrets a receiver was
     * given survive restarts; each stack has its own, so no published key can sign its hooks.
     */
    private static String hookSigningKey(Path dataDir) {
        return KeptSecret.in(dataDir.resolve("hook-signing-key"), () -> {
            byte[] key = new byte[32];
            new SecureRandom().nextBytes(key);
            return "whsec_" + Base64.getEncoder().encodeToString(key);
        });
    }

    private static String randomToken(int bytes) {
        byte[] random = new byte[bytes];
        new SecureRandom().nextBytes(random);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }
}
