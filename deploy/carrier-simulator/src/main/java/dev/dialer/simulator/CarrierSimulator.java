package dev.dialer.simulator;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;

import io.netty.handler.codec.http.HttpHeaderNames;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;
import tools.jackson.databind.json.JsonMapper;

/**
 * A carrier that speaks the Voice Gateway (jambonz) REST API over real HTTP on 127.0.0.1, for tests and the
 * standalone stack:
 * <ul>
 *   <li>{@code POST /v1/Accounts/{sid}/Calls} answers 201 {@code {sid, callId}} at once, then plays the call's
 *       outcome (see {@link OutcomeRule#lastDigit()}) as jambonz status callbacks to its {@code call_status_hook},
 *       or, when it names one of the {@link SimulatorSettings#applications()}, to that application's, as jambonz
 *       does; and to its {@code notifyUrl} besides, as a Cognigy Voice Gateway does. A request with {@code amd}
 *       also gets, once answered, a signed answering-machine event ({@code amd_human_detected} or
 *       {@code amd_machine_detected}, see {@link AnsweringMachineRule}) on its {@code amd.actionHook}</li>
 *   <li>{@code GET /v1/Accounts/{sid}/Calls/{call_sid}} returns the call's current status</li>
 *   <li>{@code PUT /v1/Accounts/{sid}/Calls/{call_sid}} with {@code call_status} "no-answer" cancels an unanswered
 *       call, "completed" hangs up an answered one</li>
 *   <li>{@code GET /v1/Applications/{application_sid}} returns an application with its hooks</li>
 *   <li>{@code GET /metrics} is the simulator's Prometheus scrape</li>
 * </ul>
 * Not a Spring application, so it embeds in any test or launcher.
 */
public final class CarrierSimulator implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CarrierSimulator.class);
    private static final String HOST = "127.0.0.1";
    /** Where the server listens: loopback unless {@code -Ddialer.simulator.bind-address} says (a container needs 0.0.0.0). */
    private static final String BIND_ADDRESS = System.getProperty("dialer.simulator.bind-address", HOST);
    private static final String CALLS = "/v1/Accounts/{accountSid}/Calls";
    private static final String CALL = CALLS + "/{callSid}";
    private static final String APPLICATION = "/v1/Applications/{applicationSid}";
    /** Beyond this many calls in flight, new calls wait for a slot before their timeline starts. */
    private static final int MAX_LIVE_CALLS = 10_000;

    private final SimulatorMetrics metrics;
    private final StatusHookClient hooks;
    private final CallTimeline timeline;
    /** The longest a status callback waits before it is sent ({@link SimulatorSettings#callbackJitter}). */
    private final Duration jitter;
    private final CallsApi api;
    private final Sinks.Many<SimulatedCall> created = Sinks.many().unicast().onBackpressureBuffer();
    private final Disposable liveCalls;
    private final DisposableServer server;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Set by {@link #hang}: the API takes requests and answers none, and no callback is posted. */
    private final AtomicBoolean hung = new AtomicBoolean();

    private CarrierSimulator(SimulatorSettings settings) {
        JsonMapper mapper = JsonMapper.builder().build();
        this.metrics = new SimulatorMetrics();
        this.hooks = new StatusHookClient(mapper, settings.webhookSecret(), settings.lostCallbacks(), metrics);
        this.jitter = settings.callbackJitter();
        this.timeline = new CallTimeline(settings.ringTime(), settings.talkTime(), settings.ringSpread(),
                settings.talkSpread());
        this.api = new CallsApi(settings, mapper, metrics,
                this::emitCreated);
        this.liveCalls = liveCalls().subscribe();
        try {
            this.server = HttpServer.create()
                    .host(BIND_ADDRESS)
                    .port(settings.port())
                    .route(this::routes)
                    .bindNow(Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            liveCalls.dispose();
            release(hooks.close());
            metrics.close();
            throw e;
        }
    }

    /**
     * Hands a new call to its timeline. Create-call requests arrive on several event loops at once and a unicast sink
     * takes one emitter at a time: serialized here, because busy-looping for a turn failed the request with a 500
     * whenever a busy machine kept the current emitter off the CPU for long.
     */
    private void emitCreated(SimulatedCall call) {
        synchronized (created) {
            created.emitNext(call, Sinks.EmitFailureHandler.FAIL_FAST);
        }
    }

    /** Starts a simulator bound to 127.0.0.1 on {@code settings.port()} (0 picks a free port). */
    public static CarrierSimulator start(SimulatorSettings settings) {
        CarrierSimulator simulator = new CarrierSimulator(settings);
        log.info("Carrier simulator listening on {} for account {}", simulator.baseUrl(), settings.accountSid());
        return simulator;
    }

    public int port() {
        return server.port();
    }

    /** {@code http://127.0.0.1:<port>}. */
    public String baseUrl() {
        return "http://" + HOST + ":" + port();
    }

    /** How many create-call requests were accepted: what {@link #calls()} would count, without copying them. */
    public long callsReceived() {
        return api.received();
    }

    /** Every accepted create-call request, in arrival order; a snapshot, safe to read from any thread. */
    public List<ReceivedCall> calls() {
        return api.calls();
    }

    /**
     * The carrier hangs, as a gateway whose process is stuck or whose host went away behind a connection that stays
     * open: from now on its API takes every request, the connections already open included, and answers none, and no
     * callback of any call is posted again. Not undone.
     */
    public void hang() {
        if (hung.compareAndSet(false, true)) {
            liveCalls.dispose();
            log.info("Carrier simulator on {} hangs: no answer, no callback", baseUrl());
        }
    }

    /** Stops the server and every pending call timer; callbacks not yet sent are dropped. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        server.disposeNow(Duration.ofSeconds(5));
        liveCalls.dispose();
        release(hooks.close());
        metrics.close();
    }

    /**
     * Runs the simulator on its own until SIGTERM. Options (all optional): {@code --port=8090},
     * {@code --account-sid=dialer}, {@code --api-key=..}, {@code --webhook-secret=..}, {@code --ring-time=PT1S},
     * {@code --talk-time=PT2S}, {@code --ring-spread=PT0S}, {@code --talk-spread=PT0S}, {@code --max-calls=0},
     * {@code --lost-callbacks=0}, {@code --outcome-weights=answered:60,busy:20,no-answer:10,failed:5,capacity:5},
     * {@code --outcome-rule=last-digit} (the default; {@code last-digit-capacity-passes}: a number ending in 3 is
     * refused for capacity at every other dial, {@link OutcomeRule#lastDigitCapacityPasses()}),
     * {@code --amd-machine-share=0.3} (who answers calls that ask for {@code amd}; by default numbers ending in 9
     * reach a machine), {@code --applications-status-hook=http://…} (every application posts its calls' statuses
     * there, whatever the requests say; by default each request keeps its own {@code call_status_hook}),
     * {@code --callback-jitter=PT0S} (each status callback waits up to that long, and they may arrive out of order).
     */
    public static void main(String[] args) {
        CarrierSimulator simulator = start(LauncherArguments.parse(args));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            simulator.close();
            stopped.countDown();
        }, "carrier-simulator-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            simulator.close();
        }
    }

    /**
     * Plays every created call: its timeline and its status callbacks, one after another, or side by side each after
     * a wait of its own when the settings' {@code callbackJitter} is set. Callbacks are at most once (see
     * {@link StatusHookClient#deliver}); a call's failure never stops the others.
     */
    private Flux<Void> liveCalls() {
        return created.asFlux().flatMap(this::play, MAX_LIVE_CALLS);
    }

    private Mono<Void> play(SimulatedCall call) {
        Mono<Void> callbacks = (jitter.isZero()
                ? call.updates().concatMap(update -> hooks.deliver(call, update))
                : call.updates().flatMap(update -> Mono.delay(Duration.ofMillis(
                                ThreadLocalRandom.current().nextLong(jitter.toMillis() + 1)))
                        .then(hooks.deliver(call, update)))).then();
        return Mono.when(timeline.play(call), callbacks)
                .onErrorResume(e -> {
                    log.warn("Simulated call {} stopped: {}", call.received().callSid(), e.toString());
                    return Mono.empty();
                });
    }

    private void routes(HttpServerRoutes routes) {
        routes.post(CALLS, (request, response) -> withBody(request, response,
                        body -> api.create(request.param("accountSid"), body)))
                .get(CALL, (request, response) -> authorized(request, response,
                        () -> Mono.just(api.get(request.param("callSid")))))
                .put(CALL, (request, response) -> withBody(request, response,
                        body -> api.update(request.param("callSid"), body)))
                .get(APPLICATION, (request, response) -> Mono.just(api.application(
                                request.requestHeaders().get(HttpHeaderNames.AUTHORIZATION),
                                request.param("applicationSid")))
                        .flatMap(reply -> send(response, reply)))
                .get("/metrics", (request, response) -> response
                        .header(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                        .sendString(Mono.fromCallable(metrics::scrape), StandardCharsets.UTF_8));
    }

    private Publisher<Void> withBody(HttpServerRequest request, HttpServerResponse response,
                                     Function<String, CallsApi.Reply> handler) {
        return authorized(request, response, () -> request.receive().aggregate()
                .asString(StandardCharsets.UTF_8)
                .defaultIfEmpty("")
                .map(handler));
    }

    private Publisher<Void> authorized(HttpServerRequest request, HttpServerResponse response,
                                       Supplier<Mono<CallsApi.Reply>> handler) {
        if (hung.get()) {
            return request.receive().then(Mono.never());
        }
        CallsApi.Reply refusal = api.authorize(request.requestHeaders().get(HttpHeaderNames.AUTHORIZATION),
                request.param("accountSid"));
        Mono<CallsApi.Reply> reply = refusal == null ? handler.get() : Mono.just(refusal);
        return reply.flatMap(answer -> send(response, answer));
    }

    /** Waits for pooled connections to close, except on a Reactor thread (a test may close from a callback). */
    private static void release(Mono<Void> closing) {
        if (Schedulers.isInNonBlockingThread()) {
            closing.subscribe();
        } else {
            closing.block(Duration.ofSeconds(5));
        }
    }

    private static Mono<Void> send(HttpServerResponse response, CallsApi.Reply reply) {
        return response.status(reply.status())
                .header(HttpHeaderNames.CONTENT_TYPE, "application/json")
                .sendString(Mono.just(reply.json()), StandardCharsets.UTF_8)
                .then();
    }
}
