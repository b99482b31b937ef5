package dev.dialer.dispatcher.carrier.sip;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.callback.CarrierCallback;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.dispatcher.carrier.CallReport;
import dev.dialer.dispatcher.carrier.Carrier;
import dev.dialer.dispatcher.carrier.CarrierException;
import dev.dialer.dispatcher.carrier.PlacedCall;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.sip.ClientTransaction;
import javax.sip.DialogTerminatedEvent;
import javax.sip.IOExceptionEvent;
import javax.sip.RequestEvent;
import javax.sip.ResponseEvent;
import javax.sip.SipListener;
import javax.sip.TimeoutEvent;
import javax.sip.TransactionTerminatedEvent;
import javax.sip.header.CallIdHeader;
import javax.sip.message.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The SIP trunk carrier: each call is an INVITE to the configured trunk or SBC, followed through to its end
 * (see {@link SipCall} for the rules). Status changes are not posted back by anyone: this carrier produces them
 * itself and hands them to {@code reporter} (the dispatcher's callback applier), so the outcome table, retries and
 * events are the same as for the REST carrier.
 *
 * <p>Threads: JAIN-SIP delivers every event on its one listener thread; the listener only looks up the call and
 * emits the event into one sink. One pipeline, subscribed for the carrier's lifetime, groups events by call and runs
 * each call's events in order on the carrier's worker threads ({@code publishOn}), at most
 * {@link #MAX_CALLS_IN_FLIGHT} calls at once.
 *
 * <p>Delivery: each call's statuses are reported in order, each once, while this process lives. Calls live in
 * memory: after a restart the watchdog finds their attempts quiet and {@link #status} knows nothing of them.
 */
public final class SipTrunkCarrier implements Carrier, AutoCloseable {

    static final String NAME = "sip-trunk";
    private static final Logger log = LoggerFactory.getLogger(SipTrunkCarrier.class);
    private static final int MAX_CALLS_IN_FLIGHT = 100_000;

    private final SipTrunkProperties properties;
    private final Function<CarrierCallback, Mono<?>> reporter;
    private final Clock clock;
    private final MeterRegistry registry;
    private final Map<String, SipCall> calls = new ConcurrentHashMap<>();
    private final Sinks.Many<Envelope> inbox = Sinks.many().unicast().onBackpressureBuffer();
    private final Scheduler workers;
    private final SipSession session;
    private final Disposable pipeline;
    private final Timer callbackLag;

    /** One event for one call, and when it was handed over. */
    private record Envelope(SipCall call, Object event, long handedOverNanos) {
    }

    public SipTrunkCarrier(SipTrunkProperties properties, Function<CarrierCallback, Mono<?>> reporter, Clock clock,
                           MeterRegistry registry) {
        this.properties = properties;
        this.reporter = reporter;
        this.clock = clock;
        this.registry = registry;
        this.callbackLag = Timer.builder("dialer.dispatcher.carrier.callback.lag")
                .description("From a carrier event's arrival to its status being applied")
                .tag("carrier", NAME)
                .register(registry);
        this.workers = Schedulers.newBoundedElastic(properties.threads(), Integer.MAX_VALUE, "sip-carrier");
        try {
            this.session = new SipSession(properties, new Listener());
        } catch (Exception e) {
            workers.dispose();
            throw new IllegalStateException("SIP stack could not start on " + properties.bindAddress() + ":"
                    + properties.bindPort() + "/" + properties.transport(), e);
        }
        this.pipeline = runCalls().subscribe();
        registry.gauge("dialer.dispatcher.carrier.sip.calls", calls, Map::size);
        log.info("SIP trunk carrier listening on {}:{}/{}, dialling {}:{}", properties.bindAddress(),
                session.localPort(), properties.transport(), properties.trunkHost(), properties.trunkPort());
    }

    /** The local SIP port. */
    public int localPort() {
        return session.localPort();
    }

    /**
     * Places the call: the INVITE is sent, then this emits the Call-ID as both ids. The call's statuses follow through
     * the reporter, starting with {@code initiated}.
     */
    @Override
    public Mono<PlacedCall> place(CallCommand command) {
        Timer.Sample sample = Timer.start(registry);
        return Mono.fromCallable(() -> register(command))
                .subscribeOn(workers)
                .onErrorMap(error -> !(error instanceof CarrierException), error -> new CarrierException(
                        CarrierException.Reason.REJECTED, "INVITE could not be built: " + error.getMessage(), error))
                .flatMap(SipCall::placed)
                .doOnSuccess(placed -> sample.stop(timer("placed")))
                .doOnError(CarrierException.class, error -> sample.stop(timer(error.reason().wire())));
    }

    private SipCall register(CallCommand command) throws Exception {
        ClientTransaction invite = session.newInvite(command);
        SipCall call = new SipCall(command.requestId(), command.attempt(), SipSession.callId(invite), session,
                seconds(command, "timeLimit", properties.timeLimit()), clock, this::offer);
        calls.put(call.callId(), call);
        offer(call, new SipCall.Start(invite, seconds(command, "timeout", properties.ringTimeout())));
        return call;
    }

    /** What this process knows of the call; empty for a call it never placed or no longer remembers. */
    @Override
    public Mono<CallReport> status(CallRef ref) {
        return Mono.justOrEmpty(ref.providerCallId()).mapNotNull(calls::get).map(SipCall::report);
    }

    /** Cancels a ringing call (at once, or at its first provisional response) or hangs up an answered one. */
    @Override
    public Mono<Void> hangUp(CallRef ref) {
        return Mono.justOrEmpty(ref.providerCallId()).mapNotNull(calls::get)
                .doOnNext(call -> offer(call, SipCall.Signal.HANG_UP))
                .then();
    }

    /**
     * Runs every call's events in order, one call's at a time on one worker, many calls in parallel. A status the
     * reporter fails to apply is logged and the call goes on (the watchdog reconciles the attempt later).
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
        SipCall call = envelope.call();
        List<CarrierCallback> statuses = call.step(envelope.event(), workers);
        return Flux.fromIterable(statuses)
                .concatMap(this::report)
                .then(Mono.fromRunnable(() -> {
                    if (!statuses.isEmpty()) {
                        callbackLag.record(System.nanoTime() - envelope.handedOverNanos(), TimeUnit.NANOSECONDS);
                    }
                    forgetIfEnded(call);
                }))
                .thenReturn(call);
    }

    private Mono<Void> report(CarrierCallback callback) {
        return Mono.defer(() -> reporter.apply(callback))
                .doOnError(error -> log.warn("status {} of request {} attempt {} could not be applied: {}",
                        callback.status().wire(), callback.requestId(), callback.attempt(), error.toString()))
                .onErrorResume(error -> Mono.empty())
                .then();
    }

    private void forgetIfEnded(SipCall call) {
        if (call.ended()) {
            calls.remove(call.callId(), call);
        }
    }

    private void offer(SipCall call, Object event) {
        inbox.emitNext(new Envelope(call, event, System.nanoTime()), Sinks.EmitFailureHandler.busyLooping(Duration.ofSeconds(2)));
    }

    /** Hands an event for a known call over; events of calls that ended are only logged (the stack answers them). */
    private void dispatch(Message message, Object event) {
        CallIdHeader callId = message == null ? null : (CallIdHeader) message.getHeader(CallIdHeader.NAME);
        SipCall call = callId == null ? null : calls.get(callId.getCallId());
        if (call != null) {
            offer(call, event);
        } else if (event instanceof RequestEvent request) {
            Schedulers.boundedElastic().schedule(() -> answerStray(request));
        } else {
            log.debug("SIP event for no call in flight: {}", event.getClass().getSimpleName());
        }
    }

    /** A request in no call we know (a BYE after we forgot the call): 481 Call/Transaction Does Not Exist. */
    private void answerStray(RequestEvent event) {
        if ("ACK".equals(event.getRequest().getMethod())) {
            return;
        }
        try {
            session.serverTransaction(event).sendResponse(session.response(481, event.getRequest()));
        } catch (Exception e) {
            log.debug("could not answer a stray {}", event.getRequest().getMethod(), e);
        }
    }

    private static Duration seconds(CallCommand command, String option, Duration fallback) {
        Object value = command.carrierOptions().get(option);
        return value instanceof Number number && number.longValue() > 0 ? Duration.ofSeconds(number.longValue())
                : fallback;
    }

    private Timer timer(String outcome) {
        return Timer.builder("dialer.dispatcher.carrier.requests")
                .description("Create-call requests to the carrier, by outcome")
                .tag("carrier", NAME)
                .tag("outcome", outcome)
                .register(registry);
    }

    @Override
    public void close() {
        pipeline.dispose();
        session.close();
        workers.dispose();
    }

    /** The stack's one listener thread: look the call up, hand the event over, nothing else. */
    private final class Listener implements SipListener {
        @Override
        public void processRequest(RequestEvent event) {
            dispatch(event.getRequest(), event);
        }

        @Override
        public void processResponse(ResponseEvent event) {
            dispatch(event.getResponse(), event);
        }

        @Override
        public void processTimeout(TimeoutEvent event) {
            javax.sip.Transaction transaction = event.isServerTransaction() ? event.getServerTransaction()
                    : event.getClientTransaction();
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
