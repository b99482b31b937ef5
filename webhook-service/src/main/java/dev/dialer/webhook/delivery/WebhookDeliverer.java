package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.DeliveryAttempt;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.hook.HookSecrets;
import dev.dialer.common.hook.HookUrls;
import dev.dialer.common.trace.TraceParent;
import dev.dialer.webhook.directory.WebhookDirectory;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.retry.Retry;

/**
 * Makes one try of one delivery (an event to one target) and settles what follows in PostgreSQL: delivered (its
 * retry row, if any, is removed), due again per the {@link RetrySchedule} (stored in {@code webhook.retries}), or
 * dead (moved to {@code webhook.dead_letters}, replayable). Before the try the webhook is looked up again (URL,
 * secrets, enabled), a hook's URL is checked as the API checks it, the payload cap and the {@link TargetGuard} are
 * checked, and the {@link EndpointIsolation} may refuse it, in which case it waits in the retry table without counting
 * as a try (until its endpoint's circuit lets a trial through, when that is what refused it) and its target is held
 * from the retry poller ({@link HeldTargets}) while its endpoint goes on refusing. A 410 Gone, or sustained failure
 * ({@link EndpointHealth}), disables the webhook and announces it, both written with the disable: to api-service, the
 * disabling try ({@link DisableAnnouncements}), and to the account's other webhooks ({@link DisabledNotice}).
 * Every try is recorded in the {@link AttemptLog}, and so is every refusal but of a foreign webhook, or of an unknown
 * one at its first try.
 *
 * <p>Delivery guarantee: each try is sent at most once; the delivery as a whole at least once, since a try that timed
 * out may still have arrived. The completion of {@link #deliver} means the outcome is durable; it errors only when
 * PostgreSQL cannot be written, and then nothing was acknowledged (the caller retries the whole delivery). Given a
 * {@link Retry} for its store step, it writes a try's outcome again per that retry rather than error, without another
 * try, and so errors for PostgreSQL only before the try.
 */
public final class WebhookDeliverer {

    private static final Logger log = LoggerFactory.getLogger(WebhookDeliverer.class);
    private static final Duration STORE_RETRY_BACKOFF = Duration.ofMillis(200);
    private static final Duration STORE_RETRY_MAX_BACKOFF = Duration.ofSeconds(5);
    /** How long a replay's try waits for the directory to be read to now before it is refused as it stands. */
    static final Duration READ_TO_NOW_LIMIT = Duration.ofSeconds(10);
    /** The latest read of the directory to now a replay's try began ({@link #readToNowSince}). */
    private final AtomicReference<Reading> reading = new AtomicReference<>();

    private final WebhookSigner signer;
    private final WebhookTransport transport;
    private final TargetGuard guard;
    private final EndpointIsolation isolation;
    private final HeldTargets held;
    private final AttemptLog attemptLog;
    private final RetryStore store;
    private final RetrySchedule schedule;
    private final EndpointHealth health;
    private final WebhookDirectory directory;
    private final DeliveryMetrics metrics;
    private final Settings settings;
    private final Clock clock;
    /** Steps following tries that run on their own ({@link #detached}). */
    private final AtomicInteger followUps = new AtomicInteger();

    /** What the deliverer needs to know from the configuration; no {@code hookSecrets} sends hooks unsigned. */
    record Settings(HookSecrets hookSecrets, long maxPayloadBytes, Duration refusalDelay) {

        /** A hook is signed with its event's account's own secret, never one another account could know. */
        String hookSecretOf(String accountId) {
            return hookSecrets == null ? null : hookSecrets.of(accountId);
        }
    }

    WebhookDeliverer(WebhookSigner signer, WebhookTransport transport, TargetGuard guard, EndpointIsolation isolation,
                     HeldTargets held, AttemptLog attemptLog, RetryStore store, RetrySchedule schedule,
                     EndpointHealth health, WebhookDirectory directory, DeliveryMetrics metrics, Settings settings,
                     Clock clock) {
        this.signer = signer;
        this.transport = transport;
        this.guard = guard;
        this.isolation = isolation;
        this.held = held;
        this.attemptLog = attemptLog;
        this.store = store;
        this.schedule = schedule;
        this.health = health;
        this.directory = directory;
        this.metrics = metrics;
        this.settings = settings;
        this.clock = clock;
    }

    /** One try, or a refusal, and its durable consequence. */
    Mono<Void> deliver(DeliveryTask task) {
        return deliver(task, null);
    }

    /**
     * One try of a claimed retry, or a refusal, and its durable consequence, written again while PostgreSQL fails it
     * after the try, until the claim's lease runs out: the retry's endpoint does not get the event again, nor its health
     * a failure counted twice, because PostgreSQL was away a moment. Past the lease the row may be claimed again (the
     * lease takes a minute to record the outcome for this), and tried again then.
     */
    Mono<Void> deliverClaimed(DeliveryTask task) {
        Retry untilLeaseEnds = Retry.backoff(Long.MAX_VALUE, STORE_RETRY_BACKOFF).maxBackoff(STORE_RETRY_MAX_BACKOFF)
                .filter(error -> CallEventConsumer.isStoreFailure(error) && task.lease() != null
                        && clock.instant().isBefore(task.lease()))
                .doBeforeRetry(signal -> log.warn("retry of event {} to {} {} not settled, PostgreSQL unavailable; "
                                + "storing its outcome again until its lease ends at {}: {}", task.eventId(),
                        task.target().kind().tag(), task.target().id(), task.lease(), signal.failure().toString()));
        return deliver(task, untilLeaseEnds);
    }

    /**
     * One try, or a refusal, and its durable consequence, written again per {@code untilStored} (when not null) when
     * PostgreSQL fails it after the try: the try is not made again for that, and its endpoint does not get the event
     * twice because PostgreSQL was away a moment, nor its health a failure counted twice.
     */
    Mono<Void> deliver(DeliveryTask task, Retry untilStored) {
        return resolve(task)
                .flatMap(resolution -> resolution.refusal() == null ? guarded(resolution.task(), untilStored)
                        : detached(refuse(task, resolution.refusal(), resolution.why())));
    }

    /** The store step, written again per {@code untilStored} when PostgreSQL fails it; as it is when that is null. */
    private static <T> Mono<T> stored(Mono<T> step, Retry untilStored) {
        return untilStored == null ? step : step.retryWhen(untilStored);
    }

    /** @param why what the delivery log says of a refusal, or null for the refusal's reason alone */
    private record Resolution(DeliveryTask task, Reason refusal, String why) {

        Resolution(DeliveryTask task, Reason refusal) {
            this(task, refusal, null);
        }
    }

    /**
     * The guard's refusal of a target's URL as it comes back through the isolation, told apart by identity: not a try,
     * so refused rather than settled (and not the endpoint's failure either: {@link EndpointIsolation} counts no
     * refused target).
     */
    private static final AttemptResult GUARD_REFUSED = AttemptResult.failed(Reason.FORBIDDEN_TARGET,
            "refused by the target guard", Duration.ZERO);

    /** The task with the target as it is now (a webhook's URL and secrets), or why it must not be sent. */
    private Mono<Resolution> resolve(DeliveryTask task) {
        if (task.payload().length > settings.maxPayloadBytes()) {
            return refusal(Reason.PAYLOAD_TOO_LARGE);
        }
        Target target = task.target();
        if (!target.kind().isWebhook()) {
            String problem = hookUrlProblem(target);
            if (problem != null) {
                return Mono.just(new Resolution(null, Reason.INVALID_TARGET, target.kind().wire() + " " + problem));
            }
            return Mono.just(new Resolution(task.withTarget(new Target(target.kind(), target.id(), target.url(),
                    target.method(), settings.hookSecretOf(task.accountId()))), null));
        }
        if (unsubscribed(task)) {
            return refusal(Reason.UNSUBSCRIBED);
        }
        Instant looked = clock.instant();
        WebhookConfig config = directory.current(target.id());
        if (task.replay() && refusalOf(task, config) != null) {
            // The replay was queued by the instance that read the directory to now (a webhook enabled again, or made,
            // just before it was asked for); this one's copy may be behind it. Read to now and look again, once.
            return readToNowSince(looked)
                    .onErrorResume(error -> {
                        log.warn("replay of event {}: the webhook directory could not be read to now ({}); {} "
                                + "refused as it stands", task.eventId(), error.toString(), target.id());
                        return Mono.empty();
                    })
                    .then(Mono.defer(() -> webhookResolution(task, directory.current(target.id()))));
        }
        return webhookResolution(task, config);
    }

    /**
     * A read of the directory to now begun at {@code since} or later, shared: the tries of a replay to a webhook that
     * stays disabled (or deleted) all come here, dozens a claim, and each read opens a consumer of its own. One begun
     * later covers what the directory held at {@code since}; one begun earlier may not, and a new one begins.
     */
    private Mono<Void> readToNowSince(Instant since) {
        return Mono.defer(() -> {
            Reading current = reading.get();
            if (current != null && !current.startedAt().isBefore(since)) {
                return current.done();
            }
            Reading next = new Reading(clock.instant(), directory.readToNow().timeout(READ_TO_NOW_LIMIT).cache());
            reading.set(next);
            return next.done();
        });
    }

    /** A read of the directory to now, and when it began. */
    private record Reading(Instant startedAt, Mono<Void> done) {
    }

    private Mono<Resolution> webhookResolution(DeliveryTask task, WebhookConfig config) {
        Reason refused = refusalOf(task, config);
        if (refused != null) {
            return refusal(refused);
        }
        Target target = task.target();
        return health.disabled(config).map(disabled -> disabled ? new Resolution(task, Reason.DISABLED)
                : new Resolution(task.withTarget(new Target(target.kind(), target.id(), config.url(), "POST",
                config.secret(), config.previousSecretAt(clock.instant()))), null));
    }

    /** Why the webhook as the directory has it ({@code config}, null: unknown) takes no try of the task, or null. */
    private static Reason refusalOf(DeliveryTask task, WebhookConfig config) {
        if (config == null) {
            return Reason.UNKNOWN_WEBHOOK;
        }
        if (!config.accountId().equals(task.accountId())) {
            return Reason.FOREIGN_ACCOUNT;
        }
        return config.enabled() ? null : Reason.DISABLED;
    }

    /**
     * Whether the task is a subscriber's delivery whose webhook no longer has an enabled subscription to the event's
     * type: a retry, or one stored while the webhook was not known yet, that came due after the subscription was
     * deleted, disabled or narrowed. A replay is not one: it was asked for the events it names.
     */
    private boolean unsubscribed(DeliveryTask task) {
        return task.target().kind() == Target.Kind.SUBSCRIPTION && !task.replay()
                && !directory.subscribed(task.accountId(), task.eventType(), task.target().id());
    }

    /**
     * What is wrong with a hook's URL, or null. A hook comes from its call's command, which may reach Kafka without the
     * API's check ({@link HookUrls#problem}), so the check is made again here, before any try: a URL longer than the
     * API takes may be too long to store for a retry (the retry table indexes it), and one that is not ASCII would go
     * out other than as written, so a GET hook's signature over its query could never verify.
     */
    private static String hookUrlProblem(Target hook) {
        return hook.url() == null ? "is missing" : HookUrls.problem(hook.url());
    }

    private static Mono<Resolution> refusal(Reason reason) {
        return Mono.just(new Resolution(null, reason));
    }

    /**
     * The target's host is checked (and looked up) inside the endpoint's isolation, as part of the try: a try the
     * endpoint refuses now (its circuit open, its most tries in flight, or a trial under way) is refused before any
     * lookup, and a lookup that times out is the endpoint's failure, so that a host whose name server does not answer
     * has its circuit opened like a host that does not answer itself, and stops costing a 5 s lookup a try.
     */
    private Mono<Void> guarded(DeliveryTask task, Retry untilStored) {
        return isolation.call(task.accountId(), task.target().url(), () -> checkedSend(task))
                .flatMap(result -> detached(result == GUARD_REFUSED
                        ? stored(refuse(task, Reason.FORBIDDEN_TARGET), untilStored)
                        : settle(task, result, untilStored)));
    }

    /**
     * What follows a try, or a refusal, run on a subscription of its own: a cancel of the caller's (the pipelines
     * stopping at a rollout) ends only its wait, never the steps half-way. Cancelled between them, a delivered retry's
     * row was removed, or a dead or refused one's moved to the dead letters or dropped, and its try or refusal never
     * logged: the row that would have brought it back was gone, so nothing wrote it, and the delivery log showed the
     * delivery retrying for ever. Counted while
     * they run, so that the service's stop waits for them ({@link #awaitFollowUps}) before its database pool and
     * producer close under them.
     */
    private Mono<Void> detached(Mono<Void> steps) {
        return Mono.defer(() -> {
            Sinks.Empty<Void> done = Sinks.empty();
            followUps.incrementAndGet();
            steps.doFinally(signal -> followUpEnded()).subscribe(null, done::tryEmitError, done::tryEmitEmpty);
            return done.asMono();
        });
    }

    private void followUpEnded() {
        if (followUps.decrementAndGet() == 0) {
            synchronized (followUps) {
                followUps.notifyAll();
            }
        }
    }

    /**
     * Waits at most {@code bound} for the steps that follow tries already made (a retry's row removed, its try logged)
     * to end: called by the stop, after the pipelines are disposed, so that no step is cut off by the database pool or
     * the producer closing.
     *
     * @return whether none is left
     */
    public boolean awaitFollowUps(Duration bound) throws InterruptedException {
        long deadline = System.nanoTime() + bound.toNanos();
        synchronized (followUps) {
            while (followUps.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(followUps, left);
            }
        }
        return true;
    }

    /** The request, once the guard let its host through; {@link #GUARD_REFUSED} when it did not. */
    private Mono<AttemptResult> checkedSend(DeliveryTask task) {
        Instant started = clock.instant();
        return guard.permits(task.target().url())
                .flatMap(permitted -> permitted ? send(task) : Mono.just(GUARD_REFUSED))
                // A name server that did not answer in time: a failed try of the target, retried per the schedule.
                .onErrorResume(HostLookups.LookupFailedException.class, failure -> {
                    metrics.lookupFailed();
                    return Mono.just(AttemptResult.failed(Reason.TIMEOUT, failure.getMessage(),
                            Duration.between(started, clock.instant())));
                });
    }

    private Mono<AttemptResult> send(DeliveryTask task) {
        Target target = task.target();
        HookRequest request;
        try {
            request = task.request();
        } catch (RuntimeException e) {
            // A GET hook's query is built from the event: one that is not JSON cannot be sent that way, ever.
            return Mono.just(AttemptResult.failed(Reason.INVALID_TARGET, "event is not JSON: " + e.getMessage(),
                    Duration.ZERO));
        }
        Map<String, String> headers;
        try {
            headers = target.secret() == null ? signer.unsignedHeaders(task.eventId())
                    : signer.headers(target.secret(), target.previousSecret(), task.eventId(), request.signed());
        } catch (IllegalArgumentException e) {
            return Mono.just(AttemptResult.failed(Reason.INVALID_TARGET, "secret is not base64", Duration.ZERO));
        }
        // Each try a span of the call's trace, when its event carried one: a receiver's tracing joins the call's.
        String traceparent = TraceParent.continued(task.traceparent());
        if (traceparent != null) {
            headers = new HashMap<>(headers);
            headers.put(TraceParent.HEADER, traceparent);
        }
        return transport.send(target.method(), request.url(), headers, request.body());
    }

    /**
     * What follows the try, in PostgreSQL. Each step is written again on its own per {@code untilStored}: the health
     * update before the retry row or dead letter it decides, so that a failure is counted once however often the row
     * that follows it fails; a delivered retry's row removed before its health is reset (see {@link #delivered}).
     */
    private Mono<Void> settle(DeliveryTask task, AttemptResult result, Retry untilStored) {
        if (result.refusedLocally() && refusedTooLong(task)) {
            return stored(expired(task, result), untilStored);
        }
        if (result.refusedLocally()) {
            // Not a try: the endpoint is saturated, its circuit is open or it is backing off after a 429. It waits
            // durably, its tries unchanged.
            metrics.refusedLocally(task.target().kind(), result.reason());
            held.refused(task.accountId(), task.target());
            return stored(store.save(task, task.tries(), clock.instant().plus(refusalWait(result)), null), untilStored);
        }
        int tries = task.tries() + 1;
        metrics.attempt(result);
        if (result.succeeded()) {
            return delivered(task, tries, result, untilStored);
        }
        // The try that would disable the webhook, stored with the disable so that it is announced come what may.
        DeliveryAttempt disabling = attempt(task, tries, DeliveryAttempt.Outcome.DEAD, result, null, true);
        if (result.reason() == Reason.GONE && task.target().kind().isWebhook()) {
            if (movedSince(task)) {
                // Gone from a URL the webhook no longer has: the account moved it while the try was on its way.
                // Neither a disable nor a failure of the new URL; the event is tried again there.
                return stored(retryOrDead(task, tries, result), untilStored);
            }
            return stored(health.disable(task.target().id(), EndpointHealth.GONE, disabling), untilStored)
                    .flatMap(disabledNow -> stored(dead(task, tries, result, disabledNow ? disabling : null),
                            untilStored));
        }
        if (result.reason() == Reason.FORBIDDEN_TARGET || result.reason() == Reason.INVALID_TARGET
                || result.reason() == Reason.GONE) {
            return stored(dead(task, tries, result, null), untilStored);
        }
        // A 429 is the endpoint asking for time, not failing: it neither counts towards a disable nor starts the count
        // again, as it neither opens nor closes the endpoint's circuit.
        Mono<Boolean> disabledNow = task.target().kind().isWebhook() && !rateLimited(result)
                ? health.failed(task.target().id(), task.target().url(), disabling) : Mono.just(false);
        return stored(disabledNow, untilStored)
                .flatMap(disabled -> stored(disabled ? dead(task, tries, result, disabling)
                        : retryOrDead(task, tries, result), untilStored));
    }

    /**
     * Whether the webhook tried has another URL now than the try's, as this instance's directory has it: a webhook
     * deleted meanwhile has not moved (its {@code gone} disable concerns nobody, and is forgotten with it).
     */
    private boolean movedSince(DeliveryTask task) {
        WebhookConfig now = directory.current(task.target().id());
        return now != null && !now.url().equals(task.target().url());
    }

    private static boolean rateLimited(AttemptResult result) {
        return result.statusCode() != null && result.statusCode() == 429;
    }

    /**
     * Whether a stored delivery has waited longer than the retry schedule can last ({@link RetrySchedule#span()}),
     * counted from when it was stored. A refusal is not a try, and an endpoint that stays down lets through one trial
     * per open period, for one of its deliveries: without this bound a dead endpoint's deliveries would wait for their
     * counted tries one trial at a time (a thousand of them, two days and more), and pile up while events go on.
     */
    private boolean refusedTooLong(DeliveryTask task) {
        return task.storedAt() != null && task.storedAt().plus(schedule.span()).isBefore(clock.instant());
    }

    /** A delivery refused once more after {@link #refusedTooLong}: to the dead letters, with the refusal's reason. */
    private Mono<Void> expired(DeliveryTask task, AttemptResult refused) {
        Reason reason = refused.reason();
        metrics.refusedTooLong(task.target().kind(), reason);
        log.warn("gave up delivering event {} to {} {} after {} tries: its endpoint has refused it ({}) since {}, "
                        + "longer than the retry schedule lasts", task.eventId(), task.target().kind().tag(),
                task.target().id(), task.tries(), reason.tag(), task.storedAt());
        return deadUntried(task, AttemptResult.failed(reason, refused.error() + " for longer than the retry schedule "
                + "lasts", Duration.ZERO));
    }

    /**
     * To the dead letters without a try of its own (a refusal that lasted too long, a delivery that cannot be stored):
     * counted as dead, and in the delivery log numbered as the try it stands for, as a refusal is.
     */
    private Mono<Void> deadUntried(DeliveryTask task, AttemptResult result) {
        metrics.outcome(task.target().kind(), "dead", result.reason());
        metrics.deadLetter(result.reason());
        return store.deadLetter(task, task.tries(), result.reason())
                .then(attemptLog.record(attempt(task, task.tries() + 1, DeliveryAttempt.Outcome.DEAD, result, null,
                        false)));
    }

    /**
     * Until an open circuit lets a trial through, or a 429's back-off ends (a sooner try would be refused again), at
     * least the refusal delay.
     */
    private Duration refusalWait(AttemptResult refused) {
        Duration open = refused.retryAfter();
        return open != null && open.compareTo(settings.refusalDelay()) > 0 ? open : settings.refusalDelay();
    }

    /**
     * The retry row removed, then the webhook's failure count reset, each written again on its own per
     * {@code untilStored}: written again together, a reset that failed would remove the row a second time, find it
     * gone and count the claim's lease as lost ({@link RetryStore#remove}), which it was not.
     */
    private Mono<Void> delivered(DeliveryTask task, int tries, AttemptResult result, Retry untilStored) {
        metrics.outcome(task.target().kind(), "delivered", Reason.OK);
        Mono<Void> healthy = task.target().kind().isWebhook() ? health.succeeded(task.target().id()) : Mono.empty();
        return stored(store.remove(task), untilStored)
                .then(stored(healthy, untilStored))
                .then(attemptLog.record(attempt(task, tries, DeliveryAttempt.Outcome.DELIVERED, result, null, false)));
    }

    private Mono<Void> retryOrDead(DeliveryTask task, int tries, AttemptResult result) {
        Optional<Duration> wait = schedule.next(tries, result);
        if (wait.isEmpty()) {
            return dead(task, tries, result, null);
        }
        Instant next = clock.instant().plus(wait.get());
        metrics.outcome(task.target().kind(), "retrying", result.reason());
        return store.save(task, tries, next, null)
                .then(attemptLog.record(attempt(task, tries, DeliveryAttempt.Outcome.RETRYING, result, next, false)));
    }

    /** @param disabling the try as announced, when it disabled the webhook just now; null otherwise */
    private Mono<Void> dead(DeliveryTask task, int tries, AttemptResult result, DeliveryAttempt disabling) {
        boolean disabledNow = disabling != null;
        metrics.outcome(task.target().kind(), "dead", result.reason());
        metrics.deadLetter(result.reason());
        log.warn("gave up delivering event {} to {} {} after {} tries ({}, status {}, {}){}", task.eventId(),
                task.target().kind().tag(), task.target().id(), tries, result.reason().tag(), result.statusCode(),
                result.error(), disabledNow ? "; the webhook is now disabled" : "");
        if (disabledNow) {
            disabled(task, result);
        }
        return store.deadLetter(task, tries, result.reason())
                .then(attemptLog.record(disabledNow ? disabling
                        : attempt(task, tries, DeliveryAttempt.Outcome.DEAD, result, null, false)));
    }

    /** Says so: the disable and its announcements are written already. */
    private void disabled(DeliveryTask task, AttemptResult result) {
        String reason = result.reason() == Reason.GONE ? EndpointHealth.GONE : EndpointHealth.FAILING;
        metrics.endpointDisabled(reason);
        log.warn("webhook {} disabled ({}): its endpoint answered {}", task.target().id(), reason,
                result.statusCode() == null ? result.reason().tag() : result.statusCode());
    }

    /**
     * A delivery PostgreSQL refuses for good to store for a retry, however often it is handled (a value too large for
     * an index of the retry table, say): it goes to the dead letters with {@link Reason#UNSTORABLE}, counted and
     * logged, rather than have its event handled again and again, resent to its other targets each time, while its
     * partition waits. Errors only when the dead letter cannot be written either.
     */
    Mono<Void> unstorable(DeliveryTask task, Throwable refused) {
        log.error("event {} to {} {} could not be stored for a retry and goes to the dead letters: {}",
                task.eventId(), task.target().kind().tag(), task.target().id(), refused.toString());
        // The delivery log is the account's to read: it says what became of the event, not PostgreSQL's message.
        return deadUntried(task, AttemptResult.failed(Reason.UNSTORABLE, "could not be stored for a retry",
                Duration.ZERO));
    }

    private Mono<Void> refuse(DeliveryTask task, Reason reason) {
        return refuse(task, reason, null);
    }

    /**
     * A delivery that is not sent at all: to another account's webhook it is dropped, and so is the first try to an
     * unknown one (its event names a webhook deleted, or one the directory cannot read); anything else goes to the
     * dead letters, with a row in the delivery log.
     */
    private Mono<Void> refuse(DeliveryTask task, Reason reason, String why) {
        metrics.outcome(task.target().kind(), "skipped", reason);
        if (reason == Reason.INVALID_TARGET) {
            // The URL itself is left out: it may be long, and its query can carry a token.
            log.warn("event {} not sent: its {}", task.eventId(), why);
        }
        if (reason == Reason.FORBIDDEN_TARGET) {
            // Only the URL's endpoint (scheme, host and port) is logged: its path is the credential of an incoming
            // webhook (Slack's, Discord's), and its query can carry a token.
            log.warn("event {} not sent to {} {} at {}: its URL is not https (or http to an allowed host) or resolves "
                            + "to an internal address not on dialer.webhook.delivery.allowed-hosts", task.eventId(),
                    task.target().kind().tag(), task.target().id(), EndpointIsolation.endpoint(task.target().url()));
        }
        if (reason == Reason.FOREIGN_ACCOUNT || (reason == Reason.UNKNOWN_WEBHOOK && !task.stored())) {
            return store.remove(task);
        }
        if (reason == Reason.UNSUBSCRIBED) {
            // The account no longer wants the event there: dropped, not dead-lettered (nothing to replay, no alert),
            // its delivery log, which showed it retrying, showing its end.
            log.debug("stored delivery of event {} to webhook {} dropped: the webhook is no longer subscribed to {}",
                    task.eventId(), task.target().id(), task.eventType());
            return task.stored() ? store.remove(task).then(logRefused(task, reason, why)) : Mono.empty();
        }
        if (reason == Reason.UNKNOWN_WEBHOOK) {
            // A retry, or a replay, of a webhook the directory has lost, perhaps for a while only (a delete undone
            // after its tombstone, a newest config it cannot read): kept in the dead letters, with its payload and
            // why, and in its delivery log, which showed it retrying; should the webhook come back, a replay of its
            // events delivers it again. A webhook deleted for good has them purged with the other dead letters.
            log.warn("stored delivery of event {} to webhook {} ({} tries) moved to the dead letters: the webhook is "
                    + "unknown (deleted, or its newest configuration unreadable)", task.eventId(), task.target().id(),
                    task.tries());
        }
        Mono<Void> logged = logRefused(task, reason, why);
        if (!task.stored() && reason == Reason.DISABLED) {
            // A disabled webhook's new events are kept in webhook.events for a replay after it is re-enabled; the
            // log shows each refusal, so a webhook disabled here is never silent there.
            return logged;
        }
        // Counted as every dead letter is, so that the alert on them sees these too (an invalid target's, say).
        metrics.deadLetter(reason);
        return store.deadLetter(task, task.tries(), reason).then(logged);
    }

    /** The refusal's row in the delivery log, numbered as the try it stands for: the first is 1, as in its contract. */
    private Mono<Void> logRefused(DeliveryTask task, Reason reason, String why) {
        AttemptResult refused = AttemptResult.failed(reason, why == null ? reason.tag() : why, Duration.ZERO);
        return attemptLog.record(attempt(task, task.tries() + 1, DeliveryAttempt.Outcome.REFUSED, refused, null,
                false));
    }

    private DeliveryAttempt attempt(DeliveryTask task, int attemptNo, DeliveryAttempt.Outcome outcome,
                                    AttemptResult result, Instant next, boolean disabledNow) {
        Target target = task.target();
        return new DeliveryAttempt(DeliveryAttempt.VERSION, UUID.randomUUID().toString(), task.eventId(),
                task.eventType(), target.kind().isWebhook() ? target.id() : null, target.kind().wire(),
                task.requestId(), task.accountId(), attemptNo, outcome, result.statusCode(), result.error(),
                result.responseBody(), result.latency().toMillis(), next, disabledNow, task.replay(),
                clock.instant());
    }
}
