package dev.dialer.dispatcher.carrier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.concurrent.Queues;

/**
 * Checks that the Voice Gateway applications calls name post their calls' statuses to this dispatcher, and says so
 * loudly when one does not. jambonz puts the application's {@code call_status_hook} in place of the create-call's own
 * (jambonz-api-server, {@code validateCreateCall}), so the calls of an application whose Call Status Webhook points
 * elsewhere report nothing here: each waits for the watchdog (ring timeout, time limit and margin: over an hour), and
 * a capacity refusal is seen as late (decision 0124).
 *
 * <p>Off the call path, at most once per application and {@code application-check-interval}: a call only notes its
 * application ({@link #used}); the first such note, and the first after the interval, has this bean's pipeline ask
 * the carrier ({@code GET /v1/Applications/{sid}}), {@value #CONCURRENCY} at a time. Each carrier's default
 * application is noted when the carrier is built, so it is checked as soon as the dispatcher has started. A check the
 * carrier cannot answer (unreachable, no such application, an API key that may not read it) is counted and logged,
 * and made again at the first use after the interval. Nothing here holds or refuses a call: the watchdog still ends
 * the calls of an application that posts elsewhere.
 *
 * <p>As {@code applicationStatusHooks} in {@code /actuator/health}, DOWN while an application was last found posting
 * elsewhere, naming each with where it posts, until a check finds it posting here or finds it gone (the carrier has
 * no such application), or until no call has named it for {@value #FORGOTTEN_AFTER} intervals (an application in use
 * is checked again at its first use after each interval: one left unused, replaced by a new one, posts nothing
 * anywhere); not in the readiness group, since the dispatcher still dials, and out of
 * rotation it would not get the callbacks that do reach it either. {@code dialer.dispatcher.carrier.applications
 * .misdirected} counts those applications.
 */
@Component("applicationStatusHooksHealthIndicator")
class ApplicationStatusHooks implements SmartLifecycle, HealthIndicator {

    private static final Logger log = LoggerFactory.getLogger(ApplicationStatusHooks.class);
    static final int CONCURRENCY = 4;
    /** How many applications are noted before those whose interval has passed are forgotten (at least). */
    static final int PRUNE_AT = 1024;
    /** Intervals after which an application found posting elsewhere, and not checked since, is no longer named. */
    static final int FORGOTTEN_AFTER = 3;

    private record Key(String carrier, String applicationSid) {
        @Override
        public String toString() {
            return carrier + "/" + applicationSid;
        }
    }

    private record Check(VoiceGatewayCarrier carrier, String applicationSid) {
    }

    /** Where an application was found posting, and when. */
    private record Found(String hook, Instant at) {
    }

    private final Duration interval;
    private final Clock clock;
    private final MeterRegistry registry;
    private final Map<Key, Instant> nextCheck = new ConcurrentHashMap<>();
    private final Map<Key, Found> elsewhere = new ConcurrentHashMap<>();
    /** The size at which {@link #nextCheck} is next pruned: twice what the last pruning left, at least PRUNE_AT. */
    private volatile int pruneAt = PRUNE_AT;
    // Kept across a restart (no auto-cancel), and buffering the notes made before the pipeline starts.
    private final Sinks.Many<Check> checks = Sinks.many().multicast().onBackpressureBuffer(Queues.SMALL_BUFFER_SIZE,
            false);
    private volatile Disposable subscription;

    ApplicationStatusHooks(CarrierProperties properties, Clock clock, MeterRegistry registry) {
        this.interval = properties.applicationCheckInterval();
        this.clock = clock;
        this.registry = registry;
        Gauge.builder("dialer.dispatcher.carrier.applications.misdirected", this, hooks -> hooks.elsewhere().size())
                .description("Voice Gateway applications last found posting their calls' statuses elsewhere")
                .register(registry);
        for (String result : new String[] {"here", "elsewhere", "unknown"}) {
            counter(result);
        }
    }

    /**
     * Notes that a call of {@code carrier} names the application, and has it checked unless it was within the
     * interval. Never blocks, never fails.
     */
    void used(VoiceGatewayCarrier carrier, String applicationSid) {
        Key key = new Key(carrier.name(), applicationSid);
        Instant now = clock.instant();
        Instant due = nextCheck.get(key);
        if (due != null && now.isBefore(due)) {
            return;
        }
        Instant next = now.plus(interval);
        boolean claimed = due == null ? nextCheck.putIfAbsent(key, next) == null : nextCheck.replace(key, due, next);
        if (claimed && !emit(new Check(carrier, applicationSid))) {
            nextCheck.remove(key, next);
        }
        if (due == null && nextCheck.size() > pruneAt) {
            prune(now);
        }
    }

    /**
     * Forgets the applications whose interval has passed: each is checked at its next use all the same, as if it were
     * still noted. A call's {@code flow_id} is any text a producer writes, so the applications noted would otherwise
     * grow with every one ever named; pruned only when their number has doubled, the cost stays a constant per note.
     */
    private void prune(Instant now) {
        nextCheck.entrySet().removeIf(entry -> !now.isBefore(entry.getValue()));
        pruneAt = Math.max(PRUNE_AT, 2 * nextCheck.size());
    }

    /** Calls arrive on many threads, and a sink takes one emitter at a time. */
    private boolean emit(Check check) {
        synchronized (checks) {
            return checks.tryEmitNext(check).isSuccess();
        }
    }

    @Override
    public synchronized void start() {
        if (subscription == null) {
            subscription = checks.asFlux().flatMap(this::check, CONCURRENCY).subscribe();
        }
    }

    @Override
    public synchronized void stop() {
        Disposable current = subscription;
        subscription = null;
        if (current != null) {
            current.dispose();
        }
    }

    @Override
    public boolean isRunning() {
        return subscription != null;
    }

    /** How many applications are noted as checked within the interval (and perhaps some whose interval passed). */
    int noted() {
        return nextCheck.size();
    }

    @Override
    public Health health() {
        Map<Key, Found> current = elsewhere();
        if (current.isEmpty()) {
            return Health.up().withDetail("checked", nextCheck.size()).build();
        }
        Map<String, String> found = new TreeMap<>();
        current.forEach((key, where) -> found.put(key.toString(), where.hook()));
        return Health.down().withDetail("postingElsewhere", found).build();
    }

    private Mono<Void> check(Check check) {
        Key key = new Key(check.carrier().name(), check.applicationSid());
        return check.carrier().applicationStatusHook(check.applicationSid())
                .doOnNext(theirs -> found(key, theirs, check.carrier().statusHookUrl()))
                .switchIfEmpty(Mono.fromRunnable(() -> gone(key)))
                .onErrorResume(e -> {
                    stillNamed(key);
                    unknown(key, e instanceof CarrierException ? e.getMessage() : e.toString());
                    return Mono.empty();
                })
                .then();
    }

    private void found(Key key, Optional<String> theirs, String ours) {
        // Counted after health and the gauge show the answer: whoever reads the count finds them up to date.
        if (theirs.isPresent() && sameHook(theirs.get(), ours)) {
            if (elsewhere.remove(key) != null) {
                log.info("Voice Gateway application {} now posts its calls' statuses here ({})", key, ours);
            }
            checked("here");
            return;
        }
        String hook = theirs.orElse("nowhere (no Call Status Webhook)");
        elsewhere.put(key, new Found(hook, clock.instant()));
        checked("elsewhere");
        log.error("Voice Gateway application {} posts its calls' statuses to {}, not to this dispatcher ({}): jambonz "
                + "sends a call's statuses to its application's Call Status Webhook, never to the status hook the "
                + "dialer gives, so its calls end only when the watchdog asks for them, over an hour late, and "
                + "capacity refusals are seen as late. Set the application's Call Status Webhook to {}, or, on a "
                + "Cognigy Voice Gateway, set dialer.dispatcher.carrier.notify-url=true (docs/carriers.md)",
                key, hook, ours, ours);
    }

    /**
     * A check of an application found posting elsewhere could not be made (the carrier's API failed or was slow): a
     * call named it all the same, so it stays reported as it was last found, for {@value #FORGOTTEN_AFTER} intervals
     * from now. Otherwise its report would lapse while calls still use it, and the page clear with nothing changed.
     */
    private void stillNamed(Key key) {
        elsewhere.computeIfPresent(key, (named, found) -> new Found(found.hook(), clock.instant()));
    }

    /** The carrier has no such application: whatever it was found posting to, it posts nothing now. */
    private void gone(Key key) {
        if (elsewhere.remove(key) != null) {
            log.info("Voice Gateway application {}, found posting its calls' statuses elsewhere, no longer exists",
                    key);
        }
        unknown(key, "the carrier has no such application");
    }

    /**
     * The applications found posting elsewhere, without those no call has named for {@value #FORGOTTEN_AFTER}
     * intervals (each in use is checked again, and found again, at its first use after an interval, or kept as it was
     * when that check could not be made).
     */
    private Map<Key, Found> elsewhere() {
        Instant since = clock.instant().minus(interval.multipliedBy(FORGOTTEN_AFTER));
        elsewhere.entrySet().removeIf(entry -> {
            boolean unused = entry.getValue().at().isBefore(since);
            if (unused) {
                log.info("Voice Gateway application {}, found posting its calls' statuses elsewhere, has not been "
                        + "named by a call since {}: no longer reported", entry.getKey(), entry.getValue().at());
            }
            return unused;
        });
        return elsewhere;
    }

    private void unknown(Key key, String why) {
        checked("unknown");
        log.warn("Could not check where Voice Gateway application {} posts its calls' statuses: {}; checked again at "
                + "its first use after {}", key, why, interval);
    }

    /**
     * Whether the application's hook is ours: compared without the fragment, where jambonz reads a hook's retry
     * settings ({@code #rc=…&rp=…}), without trailing slashes, and with scheme and host in any case.
     */
    static boolean sameHook(String theirs, String ours) {
        return normalized(theirs).equals(normalized(ours));
    }

    private static String normalized(String url) {
        int fragment = url.indexOf('#');
        String bare = (fragment < 0 ? url : url.substring(0, fragment)).strip().replaceAll("/+$", "");
        try {
            URI uri = URI.create(bare);
            if (uri.getScheme() == null || uri.getRawAuthority() == null) {
                return bare;
            }
            return uri.getScheme().toLowerCase(Locale.ROOT) + "://" + uri.getRawAuthority().toLowerCase(Locale.ROOT)
                    + (uri.getRawPath() == null ? "" : uri.getRawPath())
                    + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        } catch (IllegalArgumentException e) {
            return bare;
        }
    }

    private void checked(String result) {
        counter(result).increment();
    }

    private Counter counter(String result) {
        return Counter.builder("dialer.dispatcher.carrier.application.checks")
                .description("Checks of where Voice Gateway applications post their calls' statuses, by result")
                .tag("result", result)
                .register(registry);
    }
}
