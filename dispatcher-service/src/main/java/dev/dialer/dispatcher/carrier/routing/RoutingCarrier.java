package dev.dialer.dispatcher.carrier.routing;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.dispatcher.carrier.CallReport;
import dev.dialer.dispatcher.carrier.Carrier;
import dev.dialer.dispatcher.carrier.CarrierException;
import dev.dialer.dispatcher.carrier.PlacedCall;
import dev.dialer.dispatcher.resilience.ThrottledWarnings;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Places each call through the carriers its route names ({@link RouteTable}), in order, moving to the next only
 * after a technical failure of the previous one (no connection, a 5xx from its API, its breaker open, its bulkhead
 * full) or its refusal of a destination it cannot address ({@code unsupported_target}: a registered user over a SIP
 * trunk, refused before anything was sent). Never after an answer about the callee (busy, no answer, decline arrive later, as statuses of a call that
 * was placed) nor after a timeout (the call may have been placed: it is reconciled, not dialled elsewhere).
 *
 * <p>Each carrier is tried at most once per command, so a person is rung by at most one of them.
 */
public final class RoutingCarrier implements Carrier {

    private static final Logger log = LoggerFactory.getLogger(RoutingCarrier.class);
    /** A carrier down fails over every dial routed to it. */
    private static final ThrottledWarnings failovers = new ThrottledWarnings(log, Duration.ofSeconds(10));
    /** A carrier down fails every probe. */
    private static final ThrottledWarnings probeFailures = new ThrottledWarnings(log, Duration.ofSeconds(60));
    /** Probes of idle carriers, by {@code carrier} and {@code outcome} ({@code answered}, {@code failed}). */
    static final String PROBES = "dialer.dispatcher.carrier.probes";

    private final Map<String, GuardedCarrier> carriers;
    private final RouteTable routes;
    private final MeterRegistry registry;
    private final List<String> trunks;

    RoutingCarrier(Map<String, GuardedCarrier> carriers, RouteTable routes, MeterRegistry registry) {
        this.carriers = Map.copyOf(carriers);
        this.routes = routes;
        this.registry = registry;
        List<String> names = new ArrayList<>(routes.defaultOrder());
        carriers.keySet().stream().filter(name -> !names.contains(name)).forEach(names::add);
        this.trunks = List.copyOf(names);
        for (String name : trunks) {
            if (!carriers.get(name).probes()) {
                continue;
            }
            for (String outcome : new String[] {"answered", "failed"}) {
                registry.counter(PROBES, "carrier", name, "outcome", outcome);
            }
        }
    }

    @Override
    public Mono<PlacedCall> place(CallCommand command, int dial) {
        return placeFrom(forCarriers(command), dial, routes.route(command), 0, null);
    }

    /**
     * The command as its carriers are sent it: a {@code trunk} option naming one of the routes chose the route and
     * means nothing to the carriers, which would take it for a trunk of their own ({@code to.trunk}); one naming
     * anything else is the carrier's own business and goes as it is.
     */
    private CallCommand forCarriers(CallCommand command) {
        if (!(command.carrierOptions().get("trunk") instanceof String name) || !carriers.containsKey(name)) {
            return command;
        }
        Map<String, Object> options = new LinkedHashMap<>(command.carrierOptions());
        options.remove("trunk");
        return command.withCarrierOptions(options);
    }

    /**
     * Whether some carrier of the command's route would be tried: not every one has its breaker open (or its half-open
     * probes made). Asked of the carriers whether or not they can address the call: a lane is held on its head, and a
     * {@code user:} call held while its only carrier is out would hold the caller ID's calls another carrier could
     * place. Such a call is tried, and waits as one no carrier took ({@link #placeFrom}).
     */
    @Override
    public boolean accepting(CallCommand command) {
        for (String name : routes.route(command)) {
            if (carriers.get(name).accepting()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The first carrier of the command's route that would be tried now and can address its destination; else the first
     * that can address it; else the route's first.
     */
    @Override
    public String trunkOf(CallCommand command) {
        List<String> route = routes.route(command);
        String reaching = null;
        for (String name : route) {
            GuardedCarrier carrier = carriers.get(name);
            if (carrier.reaches(command)) {
                if (carrier.accepting()) {
                    return name;
                }
                if (reaching == null) {
                    reaching = name;
                }
            }
        }
        return reaching != null ? reaching : route.get(0);
    }

    /** Every carrier, the default route's first carrier first. */
    @Override
    public List<String> trunks() {
        return trunks;
    }

    /** {@link GuardedCarrier#probeIfIdle} of every carrier at once; a failure is logged, at most once a minute each. */
    @Override
    public Mono<Void> probeIdle(Duration idle) {
        return Flux.fromIterable(trunks)
                .map(carriers::get)
                .flatMap(carrier -> carrier.probeIfIdle(idle).doOnNext(probed -> {
                    registry.counter(PROBES, "carrier", carrier.name(), "outcome",
                            probed.answered() ? "answered" : "failed").increment();
                    if (!probed.answered()) {
                        probeFailures.warn(carrier.name(), "carrier {} did not answer a probe while idle: {}",
                                carrier.name(), probed.failure().getMessage());
                    }
                }))
                .then();
    }

    @Override
    public List<String> trunksOutOfService() {
        return trunks.stream().filter(name -> !carriers.get(name).accepting()).toList();
    }

    /**
     * Places the call from the route's carrier at {@code index} on. {@code technical} is the last technical failure of
     * a carrier before it (null when none): a route that ends on carriers that cannot address the destination reports
     * that failure, not theirs, so that the call waits for the carrier that can (or is requeued for its capacity)
     * rather than failing for good because it was briefly out.
     */
    private Mono<PlacedCall> placeFrom(CallCommand command, int dial, List<String> route, int index,
                                       CarrierException technical) {
        GuardedCarrier carrier = carriers.get(route.get(index));
        return carrier.place(command, dial)
                .map(placed -> placed.via(carrier.name()))
                .onErrorMap(CarrierException.class, failure -> failure.from(carrier.name()))
                .onErrorResume(error -> index + 1 < route.size() && error instanceof CarrierException failure
                        && failsOver(failure), error -> failOver(command, dial, route, index,
                                (CarrierException) error, technical))
                .onErrorMap(CarrierException.class, failure -> failure.isUnsupportedTarget() && technical != null
                        ? technical : failure);
    }

    /** Whether another carrier may take the call: this one certainly did not place it, nor ring anyone. */
    private static boolean failsOver(CarrierException failure) {
        return failure.isTechnical() || failure.isUnsupportedTarget();
    }

    private Mono<PlacedCall> failOver(CallCommand command, int dial, List<String> route, int index,
                                      CarrierException error, CarrierException technical) {
        String from = route.get(index);
        String to = route.get(index + 1);
        failovers.warn(from + " to " + to, "carrier {} failed for request {} attempt {} ({}); trying {}", from,
                command.requestId(), command.attempt(), error.getMessage(), to);
        registry.counter("dialer.dispatcher.carrier.failovers", "from", from, "to", to).increment();
        return placeFrom(command, dial, route, index + 1, error.isTechnical() ? error : technical);
    }

    /**
     * Asks each carrier in turn (the call's carrier is not on record); the first that knows the call answers. Empty
     * only when every carrier answered that it knows no such call; an error when one could not be asked and none
     * knew the call, so that a carrier outage never passes for "no such call".
     */
    @Override
    public Mono<CallReport> status(CallRef call) {
        return askEach(carrier -> carrier.status(call));
    }

    /**
     * Orders the carrier that knows the call to cancel it (at most one does), asking each in turn, and says what that
     * one found. Empty only when every carrier answered that it knows no such call (it is over); an error when one
     * could not be asked and none knew the call: the order was not given, and the call may still ring, so the caller
     * must ask again rather than take it for a call that is over.
     */
    @Override
    public Mono<Boolean> hangUp(CallRef call) {
        return askEach(carrier -> carrier.hangUp(call)
                .doOnError(error -> log.warn("carrier {} could not be asked to cancel request {} attempt {}: {}",
                        carrier.name(), call.requestId(), call.attempt(), error.toString())));
    }

    /** The first carrier's answer, in route-table order; see {@link #status} for empty and error. */
    private <T> Mono<T> askEach(Function<GuardedCarrier, Mono<T>> question) {
        // The trunks' order, the route table's default first: the carriers' map has no order of its own.
        return Flux.fromIterable(trunks)
                .map(carriers::get)
                .concatMap(carrier -> question.apply(carrier)
                        .map(Lookup::found)
                        .defaultIfEmpty(Lookup.notFound())
                        .onErrorResume(error -> Mono.just(Lookup.failed(error))))
                .takeUntil(lookup -> lookup.answer() != null)
                .collectList()
                .flatMap(RoutingCarrier::conclude);
    }

    private static <T> Mono<T> conclude(List<Lookup<T>> lookups) {
        for (Lookup<T> lookup : lookups) {
            if (lookup.answer() != null) {
                return Mono.just(lookup.answer());
            }
        }
        return lookups.stream().filter(lookup -> lookup.error() != null).findFirst()
                .<Mono<T>>map(lookup -> Mono.error(lookup.error()))
                .orElse(Mono.empty());
    }

    /** One carrier's answer to a question about a call: what it knows, that it knows no such call, or its failure. */
    private record Lookup<T>(T answer, Throwable error) {

        static <T> Lookup<T> found(T answer) {
            return new Lookup<>(answer, null);
        }

        static <T> Lookup<T> notFound() {
            return new Lookup<>(null, null);
        }

        static <T> Lookup<T> failed(Throwable error) {
            return new Lookup<>(null, error);
        }
    }
}
