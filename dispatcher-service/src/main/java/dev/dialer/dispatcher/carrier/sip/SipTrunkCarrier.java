package dev.dialer.dispatcher.carrier.sip;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CarrierOptions;
import dev.dialer.common.contract.Destination;
import dev.dialer.dispatcher.callback.CallbackLag;
import dev.dialer.dispatcher.callback.CarrierCallback;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.dispatcher.carrier.CallReport;
import dev.dialer.dispatcher.carrier.Carrier;
import dev.dialer.dispatcher.carrier.CarrierException;
import dev.dialer.dispatcher.carrier.PlacedCall;
import dev.dialer.dispatcher.carrier.routing.CarrierRoutingProperties;
import dev.dialer.dispatcher.outcome.OutcomeClassifier;
import dev.dialer.dispatcher.resilience.InfraRetry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import javax.sip.ClientTransaction;
import javax.sip.DialogTerminatedEvent;
import javax.sip.IOExceptionEvent;
import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;
import javax.sip.SipException;
import javax.sip.SipListener;
import javax.sip.TimeoutEvent;
import javax.sip.TransactionTerminatedEvent;
import javax.sip.header.CSeqHeader;
import javax.sip.header.CallIdHeader;
import javax.sip.message.Message;
import javax.sip.message.Request;
import javax.sip.message.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.util.retry.Retry;

/**
 * The SIP trunk carrier: each call is an INVITE to the configured trunk or SBC, followed through to its end
 * (see {@link SipCall} for the rules). Status changes are not posted back by anyone: this carrier produces them
 * itself and hands them to {@code reporter} (the dispatcher's {@code SipStatusReports}, which applies them or sends
 * them to the caller ID's owner), so the outcome table, retries and events are the same as for the REST carrier.
 *
 * <p>Threads: JAIN-SIP delivers every event on its one listener thread; the listener only looks up the call and
 * emits the event into one sink. One pipeline, subscribed for the carrier's lifetime, groups events by call and runs
 * each call's events in order on the carrier's worker threads ({@code publishOn}, and again at the end of each step,
 * whose writes complete on their clients' threads), at most {@link #MAX_CALLS_IN_FLIGHT} calls at once.
 *
 * <p>Durability: each call's {@link SipDialog} (the INVITE's identity, then the dialog's) is kept in PostgreSQL
 * ({@link DialogStore}) under a lease this carrier renews while it lives, and stored before the step's statuses are
 * reported. When a dispatcher dies (its lease lapses) or stops (it releases its leases), whoever claims the calls next
 * (this process once restarted, or another dispatcher) ends each one: BYE for an answered call, whose attempt ends
 * {@code completed} with its talk time up to then, so the request ends {@code answered}; CANCEL for one still ringing,
 * whose attempt ends {@code failed} with {@code error.code=dispatcher_restart} (retried like a transient failure;
 * the CANCEL is retransmitted until the trunk answers it, and the trunk's final answer to that INVITE is
 * acknowledged when it comes). Until then {@link #status} reports such a call alive, so the watchdog leaves it alone.
 *
 * <p>Delivery: each call's statuses are reported in order, each once, while this process lives; a call whose process
 * died is reported ended once, by whoever takes it over.
 */
public final class SipTrunkCarrier implements Carrier, AutoCloseable, SmartLifecycle {

    private static final String SIPS = "sips:";

    /** Its route name, the {@code carrier} of its metrics, as its breaker and trunk are named. */
    static final String NAME = CarrierRoutingProperties.SIP;
    /** {@code error.code} of an attempt that was ringing when its dispatcher died. */
    static final String DISPATCHER_RESTART = "dispatcher_restart";
    private static final Logger log = LoggerFactory.getLogger(SipTrunkCarrier.class);
    /**
     * How long a hang-up of a call held here waits for the INVITE's outcome (the trunk's 487, or the callee's answer
     * crossing our CANCEL) before it is told as an order taken: a trunk answers a CANCEL at once, and a call not yet
     * ringing keeps its CANCEL until its first provisional answer.
     */
    static final Duration HANG_UP_OUTCOME_WAIT = Duration.ofSeconds(5);
    private static final int MAX_CALLS_IN_FLIGHT = 100_000;
    private static final int RECOVERY_BATCH = 100;
    /** Markers of a call being built: {@link #keepThenStart} has it; its caller gave up before. */
    private static final Object HANDED_OVER = new Object();
    private static final Object GIVEN_UP = new Object();
    private static final String RECOVERED_CANCELS = "dialer.dispatcher.carrier.sip.recovered.cancels";
    private static final String BYES_NOT_TAKEN = "dialer.dispatcher.carrier.sip.bye.not_taken";
    /** How long {@link #close} lets the steps being handled finish. */
    static final Duration SETTLE_ON_CLOSE = Duration.ofSeconds(5);
    /** Writes of calls' states not stored yet ({@link #storeUnsaved}) at once, on close. */
    private static final int STORES_ON_CLOSE = 16;

    private final SipTrunkProperties properties;
    private final Function<CarrierCallback, Mono<?>> reporter;
    private final Clock clock;
    private final MeterRegistry registry;
    private final Map<String, SipCall> calls = new ConcurrentHashMap<>();
    /** The running calls whose first save is done: kept in PostgreSQL, their leases renewed. */
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    /** Running calls another dispatcher took over: they report nothing more here. */
    private final Set<String> lost = ConcurrentHashMap.newKeySet();
    /** Running calls whose kept state could not be stored: stored again at the next lease renewal. */
    private final Set<String> unsaved = ConcurrentHashMap.newKeySet();
    private final Sinks.Many<Envelope> inbox = Sinks.many().unicast().onBackpressureBuffer();
    private final Scheduler workers;
    private final SipSession session;
    private final Disposable pipeline;
    private final Timer callbackLag;
    private final Timer firstResponse;
    private final Counter forkedAnswers;
    private final Counter answeredAfterEnd;
    private final TrunkSilence silence;
    private final Disposable prober;
    private final DialogStore dialogs;
    private final String trunk;
    private final Duration answerAfterCancel;
    /** How long a status before the end may take to be applied: a quarter of 64 × T1 (8 s by default). */
    private final Duration statusReportBound;
    /** Orphaned calls we cancelled: the trunk's final answer to their INVITE is acknowledged here. */
    private final Map<String, SipDialog> cancelledOrphans = new ConcurrentHashMap<>();
    /**
     * Calls that ended here lately, by Call-ID, for {@link #endedKept}: a 2xx to an INVITE after its call ended (it
     * came after the INVITE was given up, or after the call's end was reported) is acknowledged and the call ended
     * with BYE, so that a callee who picked up is not left in silence until the trunk gives up.
     */
    private final Map<String, Ended> recentlyEnded = new ConcurrentHashMap<>();
    /** How long a 2xx may trail its call's end: 64 × the trunk's T1, as long as a UAS retransmits it. */
    private final Duration endedKept;
    /** A silent trunk gets one call every this many probe intervals, for a trunk that ignores OPTIONS. */
    private static final int TRIAL_EVERY = 6;
    /** Renews this process's leases and reads hang-ups asked elsewhere: from start until {@link #close}. */
    private volatile Disposable renewer;
    /** Takes over calls whose dispatcher died: from start until {@link #stop}. */
    private volatile Disposable keeper;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Steps of calls being handled now: their statuses being kept and reported. */
    private final AtomicInteger settling = new AtomicInteger();
    /** The OPTIONS sent as probes ({@link #probe}) and not answered yet, by Call-ID. */
    private final Map<String, Sinks.One<Void>> probes = new ConcurrentHashMap<>();

    /**
     * A call that ended here, and the To tags of the 2xx answers to its INVITE already taken (its own, any fork's): a
     * later 2xx with one of them is a retransmission, with another a callee to hang up.
     */
    private record Ended(SipDialog kept, Set<String> answeredTags) {
    }

    /** One event for one call, and when it was handed over. */
    private record Envelope(SipCall call, Object event, long handedOverNanos) {
    }

    /**
     * A carrier whose calls are kept in {@code dispatch.sip_dialogs}, as this process's own (a fresh owner id), and
     * which takes over calls whose dispatcher died.
     */
    public static SipTrunkCarrier durable(SipTrunkProperties properties, Function<CarrierCallback, Mono<?>> reporter,
                                          Clock clock, MeterRegistry registry, DatabaseClient db) {
        DialogStore store = new PostgresDialogStore(db, "sip-" + UUID.randomUUID(), properties.dialogLease());
        return new SipTrunkCarrier(properties, reporter, clock, registry, store);
    }

    SipTrunkCarrier(SipTrunkProperties properties, Function<CarrierCallback, Mono<?>> reporter, Clock clock,
                    MeterRegistry registry, DialogStore dialogs) {
        this(properties, reporter, clock, registry, dialogs, properties.t1().multipliedBy(64));
    }

    /**
     * A carrier that waits {@code answerAfterCancel} instead of 64 × T1 (tests, which cannot wait that long).
     *
     * @param answerAfterCancel how long an INVITE we cancelled may still get its final answer (64 × T1, RFC 3261
     *                          §9.1): a call of ours is then ended as cancelled, an orphan's answer no longer
     *                          acknowledged
     */
    SipTrunkCarrier(SipTrunkProperties properties, Function<CarrierCallback, Mono<?>> reporter, Clock clock,
                    MeterRegistry registry, DialogStore dialogs, Duration answerAfterCancel) {
        this.answerAfterCancel = answerAfterCancel;
        this.statusReportBound = answerAfterCancel.dividedBy(4);
        this.endedKept = endedKept(properties);
        this.properties = properties;
        this.reporter = reporter;
        this.clock = clock;
        this.registry = registry;
        this.dialogs = dialogs;
        this.trunk = Invites.trunkOf(properties);
        this.callbackLag = CallbackLag.timer(registry, NAME, CallbackLag.APPLIED);
        this.firstResponse = CallbackLag.timer(registry, NAME, CallbackLag.FIRST_CALLBACK);
        this.forkedAnswers = Counter.builder("dialer.dispatcher.carrier.sip.forked_answers")
                .description("Answers from a second fork of an INVITE already answered, acknowledged and hung up")
                .register(registry);
        this.answeredAfterEnd = Counter.builder("dialer.dispatcher.carrier.sip.answered_after_end")
                .description("Answers to the INVITE of a call that had ended here, acknowledged and hung up")
                .register(registry);
        this.silence = new TrunkSilence(properties.silentAfter(), properties.probeInterval().multipliedBy(TRIAL_EVERY),
                System::nanoTime);
        registry.gauge("dialer.dispatcher.carrier.sip.trunk.silent", silence, s -> s.silent() ? 1 : 0);
        for (SipDialog.State state : SipDialog.State.values()) {
            registry.counter("dialer.dispatcher.carrier.sip.recovered", "state", state.wire());
        }
        for (String outcome : List.of("accepted", "refused", "unanswered")) {
            registry.counter(RECOVERED_CANCELS, "outcome", outcome);
        }
        for (String outcome : List.of("refused", "unanswered")) {
            registry.counter(BYES_NOT_TAKEN, "outcome", outcome);
        }
        this.workers = Schedulers.newBoundedElastic(properties.threads(), Integer.MAX_VALUE, "sip-carrier");
        try {
            this.session = new SipSession(properties, new Listener());
        } catch (Exception e) {
            workers.dispose();
            throw new IllegalStateException("SIP stack could not start on " + properties.bindAddress() + ":"
                    + properties.bindPort() + "/" + properties.transport(), e);
        }
        // Nothing in it is expected to fail (each step handles its own errors): a failure is a defect, and no SIP
        // event is handled after it, so it is logged as such.
        this.pipeline = runCalls().subscribe(ignored -> { }, error -> log.error("SIP call handling stopped on an "
                + "unexpected error: no call's events are handled any more; restart the dispatcher", error));
        this.prober = workers.schedulePeriodically(this::probeIfSilent, properties.probeInterval().toMillis(),
                properties.probeInterval().toMillis(), TimeUnit.MILLISECONDS);
        registry.gauge("dialer.dispatcher.carrier.sip.calls", calls, Map::size);
        log.info("SIP trunk carrier listening on {}:{}/{}, dialling {}:{}", properties.bindAddress(),
                session.localPort(), properties.transport(), properties.trunkHost(), properties.trunkPort());
    }

    /**
     * Starts keeping leases and taking over calls whose dispatcher died: once the schema exists and the application is
     * up (a Spring bean is started with the context; a carrier built by hand is started by whoever built it).
     */
    @Override
    public synchronized void start() {
        if (keeper == null && !closed.get()) {
            if (renewer == null) {
                renewer = renewals().subscribe(ignored -> { }, error -> log.error("SIP dialog leases are no longer "
                        + "renewed after an unexpected error: this dispatcher's calls will be taken over; restart it",
                        error));
            }
            keeper = takeovers().subscribe(ignored -> { }, error -> log.error("SIP calls left by a dispatcher that "
                    + "stopped are no longer taken over after an unexpected error; restart this dispatcher", error));
        }
    }

    /**
     * Stops taking calls over. The calls this process holds go on until {@link #close} (the dials the stop lets end
     * place some still), and their leases are renewed, their states not stored yet stored again and the hang-ups
     * asked elsewhere read until then: stopped here, in the first phase, a slow stop let their leases lapse to another
     * dispatcher while they ran here, and an answered call whose state was not stored was taken over as ringing.
     */
    @Override
    public synchronized void stop() {
        if (keeper != null) {
            keeper.dispose();
            keeper = null;
        }
    }

    @Override
    public boolean isRunning() {
        return keeper != null;
    }

    /** The local SIP port. */
    public int localPort() {
        return session.localPort();
    }

    /** Not a registered user (the Voice Gateway's registrar has it), nor a {@code sips:} URI (TLS on every hop). */
    @Override
    public boolean reaches(CallCommand command) {
        return Destination.kindOf(command.to()) != Destination.Kind.USER && !command.to().startsWith(SIPS);
    }

    /**
     * Places the call: the INVITE is sent, then this emits the Call-ID as both ids. The call's statuses follow through
     * the reporter, starting with {@code initiated}. Each dial is a dialog of its own Call-ID, whose responses reach
     * only its own {@link SipCall}: the dial number is not needed to tell them apart.
     */
    @Override
    public Mono<PlacedCall> place(CallCommand command, int dial) {
        Timer.Sample sample = Timer.start(registry);
        if (Destination.kindOf(command.to()) == Destination.Kind.USER) {
            // A registered user lives in the Voice Gateway's registrar; a trunk has no address for it.
            sample.stop(timer("rejected"));
            return Mono.error(CarrierException.unsupportedTarget("a SIP trunk cannot reach a registered user ("
                    + command.to() + "): route such calls to a Voice Gateway carrier"));
        }
        if (command.to().startsWith(SIPS)) {
            // RFC 3261 §26.2.2: a sips: URI is reached over TLS on every hop; this trunk speaks UDP or TCP only, and
            // sending it there would pretend a security the callee asked for and does not get.
            sample.stop(timer("rejected"));
            return Mono.error(CarrierException.unsupportedTarget("a SIP trunk over " + properties.transport()
                    + " cannot reach a sips: URI, which needs TLS on every hop (" + command.to() + ")"));
        }
        if (!silence.admits()) {
            sample.stop(timer(CarrierException.Reason.UNREACHABLE.wire()));
            return Mono.error(new CarrierException(CarrierException.Reason.UNREACHABLE, "the SIP trunk " + trunk
                    + " answered none of our last " + silence.silentAfter() + " INVITEs, nor anything since; no call "
                    + "is placed through it until it answers again (an OPTIONS every " + properties.probeInterval()
                    + ", a call every " + properties.probeInterval().multipliedBy(TRIAL_EVERY) + ")", null));
        }
        // The built call, handed over to keepThenStart or given up: whichever comes first owns it. A caller that gives
        // up while the call is being built would otherwise leave it in memory for good (the built value is dropped).
        AtomicReference<Object> built = new AtomicReference<>();
        // One deadline from here to the INVITE: building it (a trunk host looked up, a worker waited for) and keeping
        // the call. Past it nothing was sent, and the dial fails as not placed, before the routing guard's timeout
        // (longer, checked at start) could report a call that may have been placed.
        long deadline = System.nanoTime() + properties.keepTimeout().toNanos();
        return Mono.fromCallable(() -> {
                    Registered registered = register(command, dial);
                    if (!built.compareAndSet(null, registered)) {
                        discard(registered);
                    }
                    return registered;
                })
                .subscribeOn(workers)
                .timeout(properties.keepTimeout())
                .onErrorMap(error -> !(error instanceof CarrierException), error -> {
                    if (error instanceof java.util.concurrent.TimeoutException) {
                        if (built.getAndSet(GIVEN_UP) instanceof Registered registered) {
                            discard(registered);
                        }
                        return new CarrierException(CarrierException.Reason.UNREACHABLE, "the INVITE could not be "
                                + "built within " + properties.keepTimeout() + "; not placed", error);
                    }
                    return buildFailure(error);
                })
                .flatMap(registered -> built.compareAndSet(registered, HANDED_OVER)
                        ? keepThenStart(registered, Duration.ofNanos(Math.max(deadline - System.nanoTime(), 1)))
                        : Mono.empty())
                .doOnCancel(() -> {
                    if (built.getAndSet(GIVEN_UP) instanceof Registered registered) {
                        discard(registered);
                    }
                })
                .doOnSuccess(placed -> sample.stop(timer("placed")))
                .doOnError(CarrierException.class, error -> sample.stop(timer(error.reason().wire())))
                // Cancelled before an answer: the routing guard's timeout gave up on the INVITE (the trunk has no
                // timeout of its own for it), or the service is stopping.
                .doOnCancel(() -> sample.stop(timer(CarrierException.Reason.TIMEOUT.wire())));
    }

    @Override
    public boolean probes() {
        return true;
    }

    /**
     * An OPTIONS to the trunk, out of any call: completes when the trunk answers it with anything but a 5xx (a 200, a
     * 405 of a trunk that takes no OPTIONS, a challenge: its SIP stack answers), or with a 503 that says it is full.
     * Errors as unreachable when it could not be sent, as a timeout when no answer came within 64 × T1 (Timer F; the
     * routing guard's timeout, shorter, gives up first), and as rejected on another 5xx (the trunk says it cannot
     * serve). Its answer, whatever it is, also ends a silence of the trunk ({@link #heardFromTrunk}).
     */
    @Override
    public Mono<Void> probe() {
        return Mono.defer(() -> {
            if (closed.get()) {
                return Mono.<Void>error(new CarrierException(CarrierException.Reason.UNREACHABLE,
                        "the SIP carrier is closed", null));
            }
            Sinks.One<Void> answer = Sinks.one();
            String callId;
            try {
                ClientTransaction options = session.options();
                callId = SipSession.callId(options);
                probes.put(callId, answer);
                try {
                    options.sendRequest();
                } catch (SipException e) {
                    probes.remove(callId);
                    throw e;
                }
            } catch (Exception e) {
                return Mono.<Void>error(new CarrierException(CarrierException.Reason.UNREACHABLE, "an OPTIONS to the "
                        + "SIP trunk " + trunk + " could not be sent: " + e.getMessage(), e));
            }
            return answer.asMono().doFinally(signal -> probes.remove(callId));
        }).subscribeOn(workers);
    }

    /**
     * Whether {@code response} answers an OPTIONS of ours; a final answer to a {@link #probe} ends it, a 5xx as a
     * failure, but a 503 that says the trunk is full ({@link OutcomeClassifier#isCapacitySignal}: a working trunk with
     * no room, as some answer OPTIONS while their calls are at their limit). An answer to an OPTIONS is no call's
     * either way.
     */
    private boolean answersOptions(Response response) {
        if (!(response.getHeader(CSeqHeader.NAME) instanceof CSeqHeader cseq)
                || !Request.OPTIONS.equals(cseq.getMethod())) {
            return false;
        }
        int code = response.getStatusCode();
        Sinks.One<Void> probe = code >= 200 ? probes.remove(callIdOf(response)) : null;
        if (probe != null && code >= 500 && code < 600
                && !OutcomeClassifier.isCapacitySignal(code, SipCall.reasonOf(response))) {
            probe.tryEmitError(new CarrierException(CarrierException.Reason.REJECTED, code, "the SIP trunk " + trunk
                    + " answered an OPTIONS " + code + " " + response.getReasonPhrase(), null));
        } else if (probe != null) {
            probe.tryEmitEmpty();
        }
        return true;
    }

    /** Whether {@code transaction} is an OPTIONS of ours no answer came to; a {@link #probe} it was fails. */
    private boolean optionsUnanswered(javax.sip.Transaction transaction) {
        if (transaction == null || !Request.OPTIONS.equals(transaction.getRequest().getMethod())) {
            return false;
        }
        Sinks.One<Void> probe = probes.remove(callIdOf(transaction.getRequest()));
        if (probe != null) {
            probe.tryEmitError(new CarrierException(CarrierException.Reason.TIMEOUT, "the SIP trunk " + trunk
                    + " answered no OPTIONS within 64 × T1", null));
        }
        return true;
    }

    /**
     * Why the INVITE could not be built. The stack's own failures to send anywhere (the trunk host not resolved, no
     * listening point, the stack stopping, no worker) are the trunk's, not the call's: unreachable, so that the call
     * waits or the route's next carrier takes it, and the breaker counts it. What remains (a destination or caller ID
     * the stack cannot parse) is the call's: refused.
     */
    static CarrierException buildFailure(Throwable error) {
        boolean trunks = error instanceof javax.sip.TransactionUnavailableException
                || error instanceof java.util.concurrent.RejectedExecutionException
                || error instanceof java.io.IOException;
        return new CarrierException(trunks ? CarrierException.Reason.UNREACHABLE : CarrierException.Reason.REJECTED,
                "INVITE could not be built: " + error.getMessage(), error);
    }

    /** A call whose INVITE is built, not sent. */
    private record Registered(SipCall call, SipCall.Start start) {
    }

    private Registered register(CallCommand command, int dial) throws Exception {
        ClientTransaction invite = session.newInvite(command);
        SipDialog kept = SipDialog.calling(command.requestId(), command.attempt(), dial, trunk, invite);
        SipCall call = new SipCall(command.requestId(), command.attempt(), dial, SipSession.callId(invite), session,
                seconds(command, "timeLimit", properties.timeLimit()), clock, this::offer, kept);
        calls.put(call.callId(), call);
        return new Registered(call, new SipCall.Start(invite, seconds(command, "timeout", properties.ringTimeout()),
                answerAfterCancel));
    }

    /**
     * The INVITE goes out only once the call is kept: a call this process cannot keep is not placed (nothing rang, so
     * it is a technical failure, which routing may fail over). A save that takes longer than {@code keepTimeout} (what
     * the INVITE's building left of {@code keep-timeout}; PostgreSQL slow) drops the call and fails the dial as
     * unreachable, so the attempt is requeued at once rather than left to the watchdog; so does a caller that gives up
     * before the INVITE went out (its own timeout, shorter than that). A dropped call is never started, and its row,
     * which the save may still write, is deleted once the save has settled; otherwise the call would stay in memory
     * and its row be renewed for ever.
     */
    private Mono<PlacedCall> keepThenStart(Registered registered, Duration keepTimeout) {
        SipCall call = registered.call();
        // Runs to its end whether or not the caller still waits, so that a drop can wait for it.
        Mono<Void> save = dialogs.save(call.kept())
                .retryWhen(InfraRetry.brief("keep SIP dialog"))
                .cache();
        save.subscribe(null, error -> { });
        AtomicBoolean settled = new AtomicBoolean();
        return save
                .timeout(keepTimeout)
                .onErrorMap(error -> {
                    if (error instanceof java.util.concurrent.TimeoutException) {
                        if (settled.compareAndSet(false, true)) {
                            drop(registered, save);
                        }
                        return new CarrierException(CarrierException.Reason.UNREACHABLE, "the call could not be kept "
                                + "in PostgreSQL within " + properties.keepTimeout() + " of its dial; not placed",
                                error);
                    }
                    settled.set(true);
                    calls.remove(call.callId(), call);
                    session.abandon(registered.start().invite());
                    return new CarrierException(CarrierException.Reason.UNREACHABLE,
                            "the call could not be kept in PostgreSQL: " + error.getMessage(), error);
                })
                .then(Mono.fromRunnable(() -> {
                    if (settled.compareAndSet(false, true)) {
                        held.add(call.callId());
                        offer(call, registered.start());
                    }
                }))
                .then(call.placed())
                .doOnCancel(() -> {
                    if (settled.compareAndSet(false, true)) {
                        drop(registered, save);
                    }
                });
    }

    /** A call given up while its INVITE was being built: nothing was saved, so it is only forgotten. */
    private void discard(Registered registered) {
        SipCall call = registered.call();
        calls.remove(call.callId(), call);
        session.abandon(registered.start().invite());
        registry.counter("dialer.dispatcher.carrier.sip.dropped_before_invite").increment();
        log.warn("SIP call {} (request {} attempt {}) given up while its INVITE was being built; it is not placed",
                call.callId(), call.kept().requestId(), call.kept().attempt());
    }

    /** A call given up before its INVITE went out: forgotten, and its row deleted once its save has settled. */
    private void drop(Registered registered, Mono<Void> save) {
        SipCall call = registered.call();
        calls.remove(call.callId(), call);
        held.remove(call.callId());
        session.abandon(registered.start().invite()); // built, never sent: the stack would keep it for good
        registry.counter("dialer.dispatcher.carrier.sip.dropped_before_invite").increment();
        log.warn("SIP call {} (request {} attempt {}) given up before its INVITE was sent; it is not placed",
                call.callId(), call.kept().requestId(), call.kept().attempt());
        save.onErrorResume(error -> Mono.empty())
                .then(dialogs.forget(call.callId()).retryWhen(InfraRetry.brief("forget SIP dialog")))
                .subscribe(null, error -> log.warn("SIP call {} dropped before its INVITE: its row could not be "
                        + "deleted ({}); a dispatcher taking it over finds a call that never rang", call.callId(),
                        error.toString()));
    }

    /**
     * What this process knows of the call; for a call it does not hold, what is kept of it: a call whose dispatcher
     * died and that nobody has ended yet is alive (whoever takes it over ends it). Empty for a call nobody holds.
     */
    @Override
    public Mono<CallReport> status(CallRef ref) {
        String callId = ref.providerCallId();
        if (callId == null) {
            return Mono.empty();
        }
        SipCall call = calls.get(callId);
        return call != null ? Mono.just(call.report()) : dialogs.find(callId).map(SipTrunkCarrier::pending);
    }

    private static CallReport pending(SipDialog kept) {
        return switch (kept.state()) {
            case CONFIRMED -> new CallReport(AttemptStatus.IN_PROGRESS, "in-progress", kept.callId(), 200, null, null);
            case EARLY -> new CallReport(AttemptStatus.RINGING, "ringing", kept.callId(), null, null, null);
            case CALLING -> new CallReport(AttemptStatus.INITIATED, "trying", kept.callId(), null, null, null);
        };
    }

    /**
     * Cancels a ringing call (at once, or at its first provisional response); an answered one talks on. A call
     * another dispatcher holds (the first to claim a cancel acts on it, whoever placed the call) is marked in its kept
     * state, and its holder cancels it at its next lease renewal ({@link #renewals}), unless it is kept as answered,
     * which is answered as here: too late; nothing happens to a call nobody keeps. A call this dispatcher holds is
     * answered for once its INVITE has its outcome, for up to {@link #HANG_UP_OUTCOME_WAIT}: a callee's answer
     * crossing our CANCEL is told as too late (the call talks on), as a Voice Gateway's call found answered is.
     */
    @Override
    public Mono<Boolean> hangUp(CallRef ref) {
        String callId = ref.providerCallId();
        if (callId == null) {
            return Mono.empty();
        }
        SipCall call = calls.get(callId);
        if (call != null) {
            if (call.report().status() == AttemptStatus.IN_PROGRESS) {
                return Mono.just(true);
            }
            // What the CANCEL came to: the callee's answer may cross it, and the call then talks on (too late).
            // Waited for a moment only; an order taken and not settled by then is told as taken.
            return Mono.fromRunnable(() -> offer(call, SipCall.Signal.HANG_UP))
                    .then(Mono.fromFuture(call.answeredOrEnded(), true))
                    .timeout(HANG_UP_OUTCOME_WAIT, Mono.just(false));
        }
        return dialogs.requestHangUp(callId)
                .retryWhen(InfraRetry.brief("ask for a SIP hang-up"))
                .map(state -> state == SipDialog.State.CONFIRMED)
                .doOnNext(answered -> log.info("SIP call {} of request {} attempt {}: held elsewhere, {}", callId,
                        ref.requestId(), ref.attempt(), answered ? "and answered: it talks on"
                                : "its holder is asked to hang up"))
                .switchIfEmpty(Mono.fromRunnable(() -> log.info("SIP call {} of request {} attempt {}: nobody holds "
                        + "it", callId, ref.requestId(), ref.attempt())));
    }

    /**
     * Runs every call's events in order, one call's at a time on one worker, many calls in parallel. A call's end is
     * applied however long the reporter takes to recover (only that call waits); an earlier status the reporter fails
     * to apply is logged and the call goes on. Once a call has ended, a 2xx to its INVITE no longer joins its events
     * (which close with its last step): it is answered as one after the call's end ({@link #dispatch}).
     */
    private Flux<Void> runCalls() {
        return inbox.asFlux()
                .groupBy(envelope -> envelope.call().callId())
                .flatMap(events -> events.publishOn(workers)
                        .concatMap(this::handle)
                        .takeUntil(SipCall::ended), MAX_CALLS_IN_FLIGHT)
                .thenMany(Flux.empty());
    }

    private Mono<SipCall> handle(Envelope envelope) {
        settling.incrementAndGet();
        return Mono.defer(() -> step(envelope)).doFinally(signal -> settling.decrementAndGet());
    }

    private Mono<SipCall> step(Envelope envelope) {
        SipCall call = envelope.call();
        List<CarrierCallback> statuses = call.step(envelope.event(), workers);
        if (call.ended()) {
            // Remembered as ended now, not once its end is reported: a 2xx to its INVITE that comes meanwhile (the
            // callee picking up while the end of a call given up unanswered is reported) is acknowledged and hung up
            // at once, not queued behind the report with the call's events, which close with its last step.
            ended(call);
        }
        call.takeFirstResponseDelay().ifPresent(firstResponse::record);
        forkedAnswers.increment(call.takeForkedAnswers());
        answeredAfterEnd.increment(call.takeAnswersAfterEnd());
        for (int i = call.takeUnansweredInvites(); i > 0; i--) {
            inviteUnanswered();
        }

        Mono<Void> reported = Flux.fromIterable(statuses).concatMap(this::report).then();
        // A running call is kept before its statuses are reported (answered, it is durable before anyone hears of
        // it); an ended one is forgotten only once its end is applied: until then its lease is renewed, and were this
        // dispatcher to stop, the call would be found and taken over rather than its outcome lost. A call another
        // dispatcher took over meanwhile reports nothing more here: that one reports its end. An end is reported only
        // once this process has made sure it still holds the call (the trunk's answer to the other's CANCEL comes
        // here), and the call leaves the renewed set before its row is deleted.
        String callId = call.callId();
        // Read in this order: a call taken over is marked lost before it leaves the held set (takenOver).
        boolean wasHeld = held.contains(callId);
        Mono<Boolean> steps;
        if (lost.contains(callId)) {
            steps = Mono.just(false);
        } else if (call.ended()) {
            Mono<Boolean> stillHeld = statuses.isEmpty() || !wasHeld ? Mono.just(true) : holds(call);
            steps = stillHeld.flatMap(ours -> ours
                    ? reported.then(Mono.fromRunnable(() -> held.remove(callId))).then(keep(call))
                    : Mono.just(false));
        } else {
            steps = keep(call).flatMap(ours -> ours ? reported.thenReturn(true) : Mono.just(false));
        }
        // Back on a worker: the step's last part may have completed on a PostgreSQL or Kafka client's thread, and the
        // call's next event, run as this one completes, would otherwise make its SIP sends there.
        return steps
                .publishOn(workers)
                .doOnNext(ours -> {
                    if (!ours) {
                        takenOver(call);
                        forgetIfEnded(call);
                        return;
                    }
                    if (call.takeInviteToSend()) {
                        offer(call, SipCall.Signal.SEND_INVITE); // kept (or not keepable): it may go out now
                    }
                    if (call.takeAckToSend()) {
                        offer(call, SipCall.Signal.SEND_ACK); // kept as answered (or not keepable): acknowledged now
                    }
                    if (!statuses.isEmpty()) {
                        callbackLag.record(System.nanoTime() - envelope.handedOverNanos(), TimeUnit.NANOSECONDS);
                    }
                    forgetIfEnded(call);
                })
                .thenReturn(call);
    }

    /**
     * Another dispatcher holds the call now: its lease here lapsed (this process stalled, or lost PostgreSQL, for
     * longer than {@code dialog-lease}) and the other took the call over and ended it. This process lets the call go
     * ({@link SipCall.Signal#TAKEN_OVER}) instead of running on beside it until its time limit.
     */
    private void takenOver(SipCall call) {
        String callId = call.callId();
        if (!held.contains(callId)) {
            return;
        }
        lost.add(callId); // before it leaves the held set: a worker that finds it not held finds it lost
        if (!held.remove(callId)) {
            if (!calls.containsKey(callId)) {
                lost.remove(callId); // it ended meanwhile and was forgotten
            }
            return;
        }
        registry.counter("dialer.dispatcher.carrier.sip.taken_over").increment();
        log.warn("SIP call {} (request {} attempt {}) was taken over by another dispatcher after this one's lease "
                + "lapsed; let go here, the other reports its end", call.callId(), call.kept().requestId(),
                call.kept().attempt());
        if (!call.ended()) {
            offer(call, SipCall.Signal.TAKEN_OVER);
        }
    }

    /**
     * Whether this process still holds the call (renewing its lease, as the renewals do); true when that cannot be
     * told (PostgreSQL away): the end is then reported, as it would have been before leases could be lost.
     */
    private Mono<Boolean> holds(SipCall call) {
        return dialogs.renewLeases(List.of(call.callId())).hasElements().map(lost -> !lost)
                .retryWhen(InfraRetry.brief("check SIP dialog lease"))
                .timeout(properties.keepTimeout())
                .onErrorResume(error -> {
                    log.warn("SIP call {}: whether this dispatcher still holds it could not be read: {}",
                            call.callId(), error.toString());
                    return Mono.just(true);
                });
    }

    private void leaseLost(String callId) {
        SipCall call = calls.get(callId);
        if (call != null) {
            takenOver(call);
        }
    }

    /**
     * The call's kept state as it now stands: saved while it runs, deleted once it ended; before its statuses are
     * reported, so an answered call is durable before anyone hears of it. False when another dispatcher holds the call
     * now (nothing was written). A write that keeps failing is logged and counted, and the call goes on in memory; its
     * state is stored again at each lease renewal until it is ({@link #renewals}): a call answered but kept as
     * ringing would be cancelled, not hung up, by the dispatcher that took it over, and reported as failed.
     */
    private Mono<Boolean> keep(SipCall call) {
        boolean ending = call.ended();
        Mono<Boolean> write = ending ? dialogs.forget(call.callId()).thenReturn(true)
                : call.takeKeptChange().map(dialogs::update).orElseGet(() -> Mono.just(true));
        return write.retryWhen(InfraRetry.brief("keep SIP dialog"))
                // Bounded: the call's next SIP event (the 200 to ACK) waits for this step.
                .timeout(properties.keepTimeout())
                .onErrorResume(error -> {
                    log.warn("SIP call {} could not be kept in PostgreSQL{}: {}", call.callId(),
                            ending ? "" : "; stored again at the next lease renewal", error.toString());
                    registry.counter("dialer.dispatcher.carrier.sip.dialogs.unsaved").increment();
                    if (!ending) {
                        call.keepAgain();
                        unsaved.add(call.callId());
                    }
                    return Mono.just(true);
                });
    }

    /** Asks each running call whose kept state could not be stored to store it again, in its own turn. */
    private void keepUnsavedAgain() {
        for (String callId : List.copyOf(unsaved)) {
            unsaved.remove(callId);
            SipCall call = calls.get(callId);
            if (call != null) {
                offer(call, SipCall.Signal.KEEP_AGAIN);
            }
        }
    }

    /**
     * Every third of the lease: renews the leases of the calls this process runs (a call that ended but could not be
     * forgotten lapses, and is deleted by whoever claims it: its CANCEL or BYE gets a 481, and its report, about that
     * dial and that call only, changes nothing, also once the attempt was dialled again, here or by another carrier:
     * {@link #endOrphan}), stores again the states that could not be stored, and hangs up its calls whose hang-up
     * another dispatcher asked for; {@link #takeovers}, on a tick of its own, takes over calls whose holder's lease
     * lapsed and ends them ({@link #recover}). A tick that fails, or whose statements do not answer within the tick,
     * is logged; the next one tries again.
     *
     * <p>The two go on side by side, subscribed apart: a takeover waits for its report (the ledger, or Kafka when
     * another dispatcher owns the call's caller ID), and renewals waiting behind it would let this process's own calls
     * lapse while it runs them, to be cancelled or hung up by whoever claimed them next.
     */
    private Flux<Void> renewals() {
        Duration tick = leaseTick();
        return Flux.interval(Duration.ZERO, tick, workers)
                .onBackpressureDrop()
                .doOnNext(ticked -> keepUnsavedAgain())
                .concatMap(ticked -> dialogs.renewLeases(List.copyOf(held))
                        .doOnNext(this::leaseLost)
                        .thenMany(dialogs.hangUpsRequested())
                        .doOnNext(this::hangUpAskedElsewhere)
                        .then()
                        // A statement that never answers (a primary gone without a reset) would hold every later
                        // tick: this process's leases would lapse, and its calls be ended by whoever claimed them.
                        .timeout(tick, workers)
                        .onErrorResume(error -> {
                            log.warn("SIP dialog leases could not be renewed: {}", error.toString());
                            return Mono.empty();
                        }));
    }

    /** How often leases are renewed and lapsed ones looked for: every third of the lease. */
    private Duration leaseTick() {
        return properties.dialogLease().dividedBy(3);
    }

    /** {@link #renewals}' companion: takes over, every third of the lease, calls whose holder's lease lapsed. */
    private Flux<Void> takeovers() {
        Duration tick = leaseTick();
        return Flux.interval(Duration.ZERO, tick, workers)
                .onBackpressureDrop()
                .concatMap(ticked -> dialogs.claimOrphans(RECOVERY_BATCH)
                        // The claim alone is bounded: a takeover under way waits for its report.
                        .collectList()
                        .timeout(tick, workers)
                        .flatMapMany(Flux::fromIterable)
                        .flatMap(this::recover, 4)
                        .then()
                        .onErrorResume(error -> {
                            log.warn("SIP calls left by a dispatcher that stopped could not be claimed: {}",
                                    error.toString());
                            return Mono.empty();
                        }));
    }

    /** Asked again every tick until the call ends: a hang-up is harmless to repeat ({@link SipCall}). */
    private void hangUpAskedElsewhere(String callId) {
        SipCall call = calls.get(callId);
        if (call != null) {
            offer(call, SipCall.Signal.HANG_UP);
        }
    }

    /**
     * Ends a call whose dispatcher died, on the wire and in the ledger, once: its status goes to the reporter, then
     * the kept call is deleted. If that fails, or the report takes half the lease, the lease is given up so the next
     * tick (here or elsewhere) tries again: the report is about that call only, and a repeated one changes nothing.
     */
    private Mono<Void> recover(SipDialog orphan) {
        return Mono.fromCallable(() -> endOrphan(orphan))
                .subscribeOn(workers)
                // Within the claim's lease: past it another dispatcher may claim the call too.
                .flatMap(callback -> Mono.defer(() -> reporter.apply(callback))
                        .timeout(properties.dialogLease().dividedBy(2), workers)
                        .then(dialogs.forget(orphan.callId())))
                .doOnSuccess(done -> registry.counter("dialer.dispatcher.carrier.sip.recovered",
                        "state", orphan.state().wire()).increment())
                .onErrorResume(error -> {
                    log.warn("SIP call {} of request {} attempt {}, left by a dispatcher that stopped, could not be "
                            + "ended: {}", orphan.callId(), orphan.requestId(), orphan.attempt(), error.toString());
                    return dialogs.release(orphan.callId()).onErrorResume(e -> Mono.empty());
                });
    }

    /**
     * Ends a taken-over call on the wire, and reports it as that call's end ({@link CarrierCallback#takenOver}), naming
     * the dial it was: a kept call may have outlived its dial (its row could not be deleted when a capacity rejection
     * requeued the attempt, or when the call was dropped before its INVITE and another carrier placed the dial), and
     * then its report changes nothing of the dial or call the attempt is on now.
     */
    private CarrierCallback endOrphan(SipDialog orphan) throws Exception {
        if (orphan.state() == SipDialog.State.CONFIRMED) {
            session.bye(orphan);
            Integer duration = orphan.answeredAt() == null ? null : (int) Math.max(0,
                    Math.round(Duration.between(orphan.answeredAt(), clock.instant()).toMillis() / 1000.0));
            log.info("SIP call {} (request {} attempt {}) was answered when its dispatcher stopped: ended with BYE "
                    + "after {} s", orphan.callId(), orphan.requestId(), orphan.attempt(), duration);
            return new CarrierCallback(orphan.requestId(), orphan.attempt(), AttemptStatus.COMPLETED, "completed",
                    orphan.callId(), 200, null, duration, null, null, orphan.dial(), true);
        }
        cancelledOrphans.put(orphan.callId(), orphan);
        workers.schedule(() -> cancelledOrphans.remove(orphan.callId()), answerAfterCancel.toMillis(),
                TimeUnit.MILLISECONDS);
        if (session.cancel(orphan)) {
            log.info("SIP call {} (request {} attempt {}) was ringing when its dispatcher stopped: CANCEL sent",
                    orphan.callId(), orphan.requestId(), orphan.attempt());
        } else {
            log.info("SIP call {} (request {} attempt {}) was ringing when its dispatcher stopped: taken over again "
                    + "while our CANCEL is still under way, not sent again", orphan.callId(), orphan.requestId(),
                    orphan.attempt());
        }
        return new CarrierCallback(orphan.requestId(), orphan.attempt(), AttemptStatus.FAILED, "failed",
                orphan.callId(), null, "the dispatcher restarted while the call rang", null, null,
                DISPATCHER_RESTART, orphan.dial(), true);
    }

    /** The trunk's final answer to an orphan's INVITE we cancelled: acknowledged (and a 2xx hung up at once). */
    private void acknowledgeOrphan(SipDialog orphan, Response response) {
        try {
            session.acknowledge(orphan, response);
            cancelledOrphans.remove(orphan.callId(), orphan);
        } catch (Exception e) {
            log.debug("could not acknowledge the {} to cancelled call {}", response.getStatusCode(), orphan.callId(), e);
        }
    }

    /**
     * The trunk's answer to a taken-over call's CANCEL ({@link SipSession#cancel(SipDialog)}): a 200 ends its
     * retransmissions and the INVITE's 487 follows ({@link #acknowledgeOrphan}); a refusal (481: the trunk no longer
     * knows the INVITE, or the CANCEL did not come from where its Via said) leaves a call still ringing to ring until
     * the trunk's own timeout.
     */
    private void cancelAnswered(SipDialog orphan, Response response) {
        int code = response.getStatusCode();
        if (code < 200) {
            return; // the CANCEL's transaction waits on for its final answer
        }
        if (code < 300) {
            registry.counter(RECOVERED_CANCELS, "outcome", "accepted").increment();
            log.debug("SIP call {}: the trunk accepted our CANCEL", orphan.callId());
            return;
        }
        registry.counter(RECOVERED_CANCELS, "outcome", "refused").increment();
        log.warn("SIP call {} (request {} attempt {}), taken over from a dispatcher that stopped: the trunk refused "
                + "our CANCEL with {} {}; unless the call had ended (or its INVITE never left), it rings until the "
                + "trunk's own timeout (does this dispatcher listen where the INVITE's Via said?)", orphan.callId(),
                orphan.requestId(), orphan.attempt(), code, response.getReasonPhrase());
    }

    /** No answer to a taken-over call's CANCEL however often it was sent (64 × T1): the call may still ring. */
    private void cancelUnanswered(SipDialog orphan) {
        registry.counter(RECOVERED_CANCELS, "outcome", "unanswered").increment();
        log.warn("SIP call {} (request {} attempt {}), taken over from a dispatcher that stopped: the trunk never "
                + "answered our CANCEL; it may ring until the trunk's own timeout", orphan.callId(),
                orphan.requestId(), orphan.attempt());
    }

    /**
     * Hands a status to the reporter. An end is the attempt's outcome and comes once: it is applied until the
     * reporter recovers from an outage (PostgreSQL failing over), where a lost one would leave the attempt to the
     * watchdog, which finds the call gone and ends it {@code failed}. Earlier statuses are not retried here, and are
     * given up after {@link #statusReportBound}: the call's next SIP event waits for them, and a 200 not acknowledged
     * within the trunk's 64 × T1 is a callee answering into silence, then hung up on by the trunk.
     */
    private Mono<Void> report(CarrierCallback callback) {
        boolean end = callback.status().isTerminal();
        Mono<?> applied = Mono.defer(() -> reporter.apply(callback))
                .retryWhen(end ? InfraRetry.untilRecovered("apply SIP call end") : Retry.max(0));
        return (end ? applied : applied.timeout(statusReportBound))
                .doOnError(error -> log.warn("status {} of request {} attempt {} could not be applied: {}",
                        callback.status().wire(), callback.requestId(), callback.attempt(), error.toString()))
                .onErrorResume(error -> Mono.empty())
                .then();
    }

    private void forgetIfEnded(SipCall call) {
        if (call.ended() && calls.remove(call.callId(), call)) {
            held.remove(call.callId());
            lost.remove(call.callId());
            Ended ended = ended(call);
            workers.schedule(() -> recentlyEnded.remove(call.callId(), ended), endedKept.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    /** The call, which has ended, as remembered for a 2xx to its INVITE: with the answers it had when it ended. */
    private Ended ended(SipCall call) {
        return recentlyEnded.computeIfAbsent(call.callId(), callId -> {
            Set<String> answered = ConcurrentHashMap.newKeySet();
            answered.addAll(call.answeredTags());
            return new Ended(call.kept(), answered);
        });
    }

    /**
     * How long a call that ended here is remembered for a 2xx to its INVITE: 64 × the trunk's T1 (RFC 3261 §13.3.1.4,
     * the UAS retransmits a 2xx that long without an ACK), not a fixed 32 s, so a trunk given a longer T1 is answered
     * for as long as it retransmits.
     */
    static Duration endedKept(SipTrunkProperties properties) {
        return properties.t1().multipliedBy(64);
    }

    /** A 2xx to the INVITE of a call that has ended here: acknowledged, and the call it opened ended with BYE. */
    private void answeredAfterItsEnd(Ended call, ResponseEvent event) {
        String tag = SipCall.toTag(event.getResponse());
        if (!call.answeredTags().add(tag)) {
            return;
        }
        SipDialog ended = call.kept();
        answeredAfterEnd.increment();
        log.info("SIP call {} (request {} attempt {}) was answered after it had ended here: acknowledged and hung up",
                ended.callId(), ended.requestId(), ended.attempt());
        try {
            session.hangUpAnswer(event, ended);
        } catch (Exception e) {
            call.answeredTags().remove(tag); // its next retransmission tries again
            log.warn("SIP call {} answered after its end could not be acknowledged and hung up: {}", ended.callId(),
                    e.toString());
        }
    }

    private void offer(SipCall call, Object event) {
        inbox.emitNext(new Envelope(call, event, System.nanoTime()), Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(2)));
    }

    /** Hands an event for a known call over; events of calls that ended are only logged (the stack answers them). */
    private void dispatch(Message message, Object event) {
        CallIdHeader callId = message == null ? null : (CallIdHeader) message.getHeader(CallIdHeader.NAME);
        SipCall call = callId == null ? null : calls.get(callId.getCallId());
        SipDialog orphan = callId == null ? null : cancelledOrphans.get(callId.getCallId());
        Ended ended = callId == null ? null : recentlyEnded.get(callId.getCallId());
        ResponseEvent answer = event instanceof ResponseEvent response && finalToInvite(response.getResponse())
                && response.getResponse().getStatusCode() < 300 ? response : null;
        if (call != null && (ended == null || answer == null)) {
            offer(call, event);
        } else if (event instanceof RequestEvent request) {
            Schedulers.boundedElastic().schedule(() -> answerStray(request));
        } else if (orphan != null && event instanceof ResponseEvent response
                && finalToInvite(response.getResponse())) {
            Schedulers.boundedElastic().schedule(() -> acknowledgeOrphan(orphan, response.getResponse()));
        } else if (answer != null && ended != null) {
            Schedulers.boundedElastic().schedule(() -> answeredAfterItsEnd(ended, answer));
        } else {
            log.debug("SIP event for no call in flight: {}", event.getClass().getSimpleName());
        }
    }

    private static boolean challengesBye(Response response) {
        int code = response.getStatusCode();
        return (code == 401 || code == 407) && response.getHeader(CSeqHeader.NAME) instanceof CSeqHeader cseq
                && Request.BYE.equals(cseq.getMethod());
    }

    /**
     * A trunk that authenticates requests inside a call challenged our BYE: it goes again, once, with credentials.
     * Left unanswered, the call would stay up at the trunk (billed, and one more call than the trunk's limit counts)
     * after the dialer reported it ended and freed its slot. A BYE refused with credentials, or challenged when the
     * trunk has none configured, is logged: the trunk ends that call on its own timers only.
     */
    private void byeChallenged(ResponseEvent event) {
        ClientTransaction challenged = event.getClientTransaction();
        Response challenge = event.getResponse();
        if (challenged == null || !session.canAuthenticate()
                || SipSession.carriesCredentials(challenged.getRequest())) {
            registry.counter("dialer.dispatcher.carrier.sip.bye.challenges", "outcome", "refused").increment();
            log.warn("SIP trunk {} refused our BYE of call {} with {} {}{}: the call may stay up until the trunk ends "
                    + "it", trunk, callIdOf(challenge), challenge.getStatusCode(), challenge.getReasonPhrase(),
                    session.canAuthenticate() ? " although it carried credentials" : " (no credentials configured)");
            return;
        }
        try {
            session.byeAgain(challenge, challenged);
            registry.counter("dialer.dispatcher.carrier.sip.bye.challenges", "outcome", "answered").increment();
            log.info("SIP trunk {} challenged our BYE of call {}: sent again with credentials", trunk,
                    callIdOf(challenge));
        } catch (Exception e) {
            registry.counter("dialer.dispatcher.carrier.sip.bye.challenges", "outcome", "refused").increment();
            log.warn("SIP trunk {} challenged our BYE of call {}, which could not be sent again: {}", trunk,
                    callIdOf(challenge), e.toString());
        }
    }

    /**
     * A final refusal of one of our BYEs other than a challenge (answered on its own) or a 481, which says the call is
     * gone already (the trunk's BYE crossed ours, or it ended the call itself).
     */
    private static boolean refusesBye(Response response) {
        int code = response.getStatusCode();
        return code >= 300 && code != 401 && code != 407 && code != Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST
                && response.getHeader(CSeqHeader.NAME) instanceof CSeqHeader cseq
                && Request.BYE.equals(cseq.getMethod());
    }

    /**
     * One of our BYEs was refused, or never answered: the call it ended here (reported, its slot freed) may stay up
     * at the trunk, billed and counted against its limit, until the trunk ends it on its own timers. Only counted and
     * logged: the call's end is reported already, and the trunk's answer says nothing a BYE sent again would change.
     */
    private void byeNotTaken(String outcome, String why, String callId) {
        registry.counter(BYES_NOT_TAKEN, "outcome", outcome).increment();
        log.warn("SIP trunk {} did not take our BYE of call {} ({}): the call may stay up until the trunk ends it",
                trunk, callId, why);
    }

    private static String callIdOf(Message message) {
        return message.getHeader(CallIdHeader.NAME) instanceof CallIdHeader callId ? callId.getCallId() : "unknown";
    }

    private static boolean finalToInvite(Response response) {
        CSeqHeader cseq = (CSeqHeader) response.getHeader(CSeqHeader.NAME);
        return response.getStatusCode() >= 200 && cseq != null && Request.INVITE.equals(cseq.getMethod());
    }

    /**
     * A request in no call we know: an OPTIONS (a peer's keep-alive, which takes only a 200 as alive) gets 200 OK;
     * any other (a BYE after we forgot the call) 481 Call/Transaction Does Not Exist.
     */
    private void answerStray(RequestEvent event) {
        if ("ACK".equals(event.getRequest().getMethod())) {
            return;
        }
        int code = Request.OPTIONS.equals(event.getRequest().getMethod()) ? Response.OK
                : Response.CALL_OR_TRANSACTION_DOES_NOT_EXIST;
        try {
            session.serverTransaction(event).sendResponse(session.response(code, event.getRequest()));
        } catch (Exception e) {
            log.debug("could not answer a stray {}", event.getRequest().getMethod(), e);
        }
    }

    private static Duration seconds(CallCommand command, String option, Duration fallback) {
        Long seconds = CarrierOptions.seconds(command.carrierOptions(), option);
        return seconds != null ? Duration.ofSeconds(seconds) : fallback;
    }

    private Timer timer(String outcome) {
        return Timer.builder("dialer.dispatcher.carrier.requests")
                .description("Create-call requests to the carrier, by outcome")
                .tag("carrier", NAME)
                .tag("outcome", outcome)
                .register(registry);
    }

    /**
     * Stops the SIP stack. Calls still up are left to whoever claims them next (their leases are given up at once),
     * as if this process had died, only sooner. Steps being handled (an end being reported, a state being kept) are
     * first given up to {@link #SETTLE_ON_CLOSE} to finish: cut short, a call's real end (a 603, a 404) would be lost
     * and the dispatcher taking it over would report it as a restart, which is retried.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        stop();
        settle();
        // No event runs from here on (an INVITE still queued is never sent), before another dispatcher may claim.
        prober.dispose();
        pipeline.dispose();
        // Under the leases still renewed: a store slower than the rest of a lease would hand the call over unstored.
        storeUnsaved();
        Disposable renewing = renewer;
        if (renewing != null) {
            renewing.dispose();
        }
        try {
            dialogs.releaseLeases().block(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            log.warn("SIP dialog leases could not be released; they lapse after {}: {}", properties.dialogLease(),
                    e.toString());
        }
        calls.clear();
        session.close();
        workers.dispose();
    }

    /**
     * Stores, once, the state of each running call that has a change not stored (its write failed, and the store
     * again a renewal asked for had not run; no step runs any more): released with the leases as ringing, an answered
     * call would be cancelled, not hung up, by whoever claimed it, and reported failed. The writes go together, within
     * one {@code keep-timeout} in all, so that a database that does not answer holds the stop no longer than that;
     * what is not stored by then is logged, and those calls are taken over as they were last stored.
     */
    private void storeUnsaved() {
        List<SipDialog> changes = calls.values().stream().filter(call -> !call.ended())
                .map(SipCall::takeKeptChange).flatMap(Optional::stream).toList();
        if (changes.isEmpty()) {
            return;
        }
        try {
            Flux.fromIterable(changes).flatMap(dialogs::update, STORES_ON_CLOSE).then()
                    .block(properties.keepTimeout());
            log.info("{} SIP calls whose state had not been stored were stored before their leases were released",
                    changes.size());
        } catch (RuntimeException e) {
            log.warn("{} SIP calls whose state had not been stored may not be stored before their leases are "
                    + "released: whoever takes one over finds it as last stored: {}", changes.size(), e.toString());
        }
    }

    private void settle() {
        long until = System.nanoTime() + SETTLE_ON_CLOSE.toNanos();
        while (settling.get() > 0 && System.nanoTime() < until) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        if (settling.get() > 0) {
            log.warn("{} SIP call step(s) still running after {}: cut short, their calls are left to whoever claims "
                    + "them next", settling.get(), SETTLE_ON_CLOSE);
        }
    }

    /** An answer from the trunk to anything of ours ends a silence. */
    private void heardFromTrunk() {
        if (silence.heard()) {
            log.info("SIP trunk {} answers again: calls are placed through it again", trunk);
        }
    }

    /** An INVITE of ours the trunk never answered at all (Timer B). */
    private void inviteUnanswered() {
        if (silence.inviteUnanswered()) {
            log.warn("SIP trunk {} answered none of our last {} INVITEs: calls are refused as unreachable (requeued, or "
                    + "failed over) until it answers again; an OPTIONS goes to it every {}, a call every {}", trunk,
                    silence.silentAfter(), properties.probeInterval(),
                    properties.probeInterval().multipliedBy(TRIAL_EVERY));
        }
    }

    /** While the trunk is silent, an OPTIONS to it: its answer ends the silence ({@link #heardFromTrunk}). */
    private void probeIfSilent() {
        if (!silence.silent() || closed.get()) {
            return;
        }
        try {
            session.options().sendRequest();
        } catch (Exception e) {
            log.debug("OPTIONS to the silent SIP trunk {} could not be sent: {}", trunk, e.toString());
        }
    }

    /**
     * The stack's one listener thread: look the call up, hand the event over, note that the trunk answered, nothing
     * else (a taken-over call's CANCEL, which no call here owns, is only counted and logged).
     */
    private final class Listener implements SipListener {
        @Override
        public void processRequest(RequestEvent event) {
            dispatch(event.getRequest(), event);
        }

        /** A taken-over call's CANCEL is known by its transaction: it has the INVITE's Call-ID but no call here. */
        @Override
        public void processResponse(ResponseEvent event) {
            if (event.getClientTransaction() != null) {
                heardFromTrunk(); // an answer to one of our transactions: anyone may send a request
            }
            if (challengesBye(event.getResponse())) {
                Schedulers.boundedElastic().schedule(() -> byeChallenged(event));
                return;
            }
            if (answersOptions(event.getResponse())) {
                return;
            }
            if (refusesBye(event.getResponse())) {
                byeNotTaken("refused", event.getResponse().getStatusCode() + " "
                        + event.getResponse().getReasonPhrase(), callIdOf(event.getResponse()));
                return;
            }
            SipDialog orphan = SipSession.takenOverCancel(event.getClientTransaction());
            if (orphan != null) {
                cancelAnswered(orphan, event.getResponse());
            } else {
                dispatch(event.getResponse(), event);
            }
        }

        @Override
        public void processTimeout(TimeoutEvent event) {
            SipDialog orphan = event.isServerTransaction() ? null
                    : SipSession.takenOverCancel(event.getClientTransaction());
            if (orphan != null) {
                cancelUnanswered(orphan);
                return;
            }
            javax.sip.Transaction transaction = event.isServerTransaction() ? event.getServerTransaction()
                    : event.getClientTransaction();
            if (!event.isServerTransaction() && optionsUnanswered(transaction)) {
                return;
            }
            if (!event.isServerTransaction() && transaction != null
                    && Request.BYE.equals(transaction.getRequest().getMethod())) {
                byeNotTaken("unanswered", "no answer within 64 × T1", callIdOf(transaction.getRequest()));
                return;
            }
            dispatch(transaction == null ? null : transaction.getRequest(), event);
        }

        @Override
        public void processIOException(IOExceptionEvent event) {
            log.warn("SIP I/O error towards {}:{}/{}", event.getHost(), event.getPort(), event.getTransport());
        }

        @Override
        public void processTransactionTerminated(TransactionTerminatedEvent event) {
            // Nothing to do: calls end on final responses, BYEs and timeouts.
        }

        @Override
        public void processDialogTerminated(DialogTerminatedEvent event) {
            // Nothing to do: see above.
        }
    }
}
