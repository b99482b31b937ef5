package dev.dialer.dispatcher.carrier.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.dispatcher.carrier.CallReport;
import dev.dialer.dispatcher.carrier.Carrier;
import dev.dialer.dispatcher.carrier.CarrierException;
import dev.dialer.dispatcher.carrier.PlacedCall;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** Failover rules and status look-ups of {@link RoutingCarrier}, with stand-in carriers. */
class RoutingCarrierTest {

    private static final Duration WAIT = Duration.ofSeconds(5);
    private static final CallRef REF = new CallRef("req", 1, "sid-1");

    private final AtomicInteger secondPlaced = new AtomicInteger();
    private final Carrier second = new StubCarrier(Mono.fromCallable(() -> {
        secondPlaced.incrementAndGet();
        return new PlacedCall("sid-2", null);
    }), Mono.empty());

    @Test
    void timeoutIsNotFailedOverBecauseTheCallMayHaveBeenPlaced() {
        Carrier routing = routing(failing(CarrierException.Reason.TIMEOUT, null), second);

        StepVerifier.create(routing.place(command(), 1))
                .expectErrorSatisfies(error -> assertThat(((CarrierException) error).reason())
                        .isEqualTo(CarrierException.Reason.TIMEOUT))
                .verify(WAIT);
        assertThat(secondPlaced).hasValue(0);
    }

    @Test
    void aTrunkNamingOneOfTheRoutesChoosesTheRouteAndIsNotSentToTheCarrier() {
        List<CallCommand> sent = new java.util.concurrent.CopyOnWriteArrayList<>();
        Map<String, Carrier> carriers = new LinkedHashMap<>();
        carriers.put("first", failing(CarrierException.Reason.UNREACHABLE, null));
        carriers.put("second", new PlacingCarrier(command -> {
            sent.add(command);
            return Mono.just(new PlacedCall("sid-2", null));
        }, command -> true));
        Carrier routing = RoutingCarriers.of(properties(Duration.ofSeconds(30)), carriers, new SimpleMeterRegistry());

        StepVerifier.create(routing.place(command().withCarrierOptions(Map.of("trunk", "second", "tag", "x")), 1))
                .expectNext(new PlacedCall("sid-2", null, "second"))
                .verifyComplete();
        StepVerifier.create(routing.place(command().withCarrierOptions(Map.of("trunk", "sbc-2")), 1))
                .expectNext(new PlacedCall("sid-2", null, "second"))
                .verifyComplete();

        assertThat(sent).extracting(CallCommand::carrierOptions)
                .containsExactly(Map.of("tag", "x"), Map.of("trunk", "sbc-2"));
    }

    @Test
    void anIdleCarrierThatFailsItsProbesIsTakenOutOfServiceWithoutACallGoingToIt() {
        ProbedCarrier first = new ProbedCarrier(Mono.error(new CarrierException(CarrierException.Reason.UNREACHABLE,
                "connection refused", null)));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Carrier routing = routing(first, second, Duration.ofSeconds(30), registry);
        assertThat(routing.trunkOf(command())).isEqualTo("first");

        routing.probeIdle(Duration.ZERO).block(WAIT);
        assertThat(routing.trunksOutOfService()).as("one failure of the two the breaker needs").isEmpty();
        routing.probeIdle(Duration.ZERO).block(WAIT);

        assertThat(routing.trunksOutOfService()).containsExactly("first");
        assertThat(routing.trunkOf(command())).isEqualTo("second");
        assertThat(registry.get(RoutingCarrier.PROBES).tags("carrier", "first", "outcome", "failed").counter()
                .count()).isEqualTo(2.0);
        // Open: not asked again until it turns half-open. The second carrier does not probe.
        routing.probeIdle(Duration.ZERO).block(WAIT);
        assertThat(first.probed).hasValue(2);
        assertThat(registry.find(RoutingCarrier.PROBES).tags("carrier", "second").counters()).isEmpty();
    }

    @Test
    void aCarrierIsNotProbedWhileItHadARequestWithinTheIdleTime() {
        ProbedCarrier first = new ProbedCarrier(Mono.empty());
        Carrier routing = routing(first, second, Duration.ofSeconds(30), new SimpleMeterRegistry());

        StepVerifier.create(routing.place(command(), 1)).expectNextCount(1).verifyComplete();
        routing.probeIdle(Duration.ofMinutes(1)).block(WAIT);
        assertThat(first.probed).hasValue(0);

        routing.probeIdle(Duration.ZERO).block(WAIT);
        assertThat(first.probed).hasValue(1);
        // The probe is a request too: not asked again within the idle time.
        routing.probeIdle(Duration.ofMinutes(1)).block(WAIT);
        assertThat(first.probed).hasValue(1);
    }

    @Test
    void anAnsweredProbeNeitherDilutesTheFailuresOfCallsNorClosesAHalfOpenBreaker() {
        // jambonz's API answers while nothing places its calls: every create-call fails, every probe is answered.
        ProbedCarrier first = new ProbedCarrier(Mono.empty(), Mono.error(new CarrierException(
                CarrierException.Reason.REJECTED, 500, "no feature server answered", null)));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Carrier routing = routing(first, second, Duration.ofMillis(200), registry);

        StepVerifier.create(routing.place(command(), 1)).expectError(CarrierException.class).verify(WAIT);
        for (int probe = 0; probe < 3; probe++) {
            routing.probeIdle(Duration.ZERO).block(WAIT);
        }
        StepVerifier.create(routing.place(command(), 1)).expectError(CarrierException.class).verify(WAIT);
        assertThat(first.probed).hasValue(3);
        assertThat(breakerState(registry, "first")).as("two calls of two failed").isEqualTo("open");

        await().atMost(WAIT).until(() -> "half_open".equals(breakerState(registry, "first")));
        routing.probeIdle(Duration.ZERO).block(WAIT);
        assertThat(first.probed).as("the half-open breaker's three permits, at once").hasValue(6);
        assertThat(breakerState(registry, "first")).as("its calls decide").isEqualTo("half_open");
        assertThat(routing.trunksOutOfService()).as("its permits given back").isEmpty();
    }

    @Test
    void aHalfOpenCarrierThatFailsItsProbesIsOpenAgainWithoutACallGoingToIt() {
        ProbedCarrier first = new ProbedCarrier(Mono.error(new CarrierException(CarrierException.Reason.REJECTED,
                502, "bad gateway", null)));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Carrier routing = routing(first, second, Duration.ofMillis(200), registry);
        routing.probeIdle(Duration.ZERO).block(WAIT);
        routing.probeIdle(Duration.ZERO).block(WAIT);
        assertThat(routing.trunksOutOfService()).containsExactly("first");

        await().atMost(WAIT).until(() -> "half_open".equals(breakerState(registry, "first")));
        routing.probeIdle(Duration.ZERO).block(WAIT);

        // Open again at the second failure (minimum-calls 2): the third probe is not let through.
        assertThat(first.probed).hasValue(4);
        assertThat(breakerState(registry, "first")).isEqualTo("open");
        assertThat(routing.trunksOutOfService()).containsExactly("first");
    }

    @Test
    void failedProbesAnsweredAgainLeaveNoFailureInAnIdleCarriersBreaker() {
        AtomicInteger asked = new AtomicInteger();
        // The carrier's API restarts: the first probe fails, the next ones are answered.
        ProbedCarrier first = new ProbedCarrier(Mono.defer(() -> asked.getAndIncrement() == 0
                ? Mono.error(new CarrierException(CarrierException.Reason.UNREACHABLE, "connection refused", null))
                : Mono.empty()));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Carrier routing = routing(first, second, Duration.ofSeconds(30), registry);
        routing.probeIdle(Duration.ZERO).block(WAIT);
        routing.probeIdle(Duration.ZERO).block(WAIT);

        // One call of two failed would open it (minimum-calls 2, 50 %): the failed probe no longer counts.
        StepVerifier.create(routing.place(command(), 1)).expectNextCount(1).verifyComplete();
        assertThat(breakerState(registry, "first")).isEqualTo("closed");
    }

    @Test
    void aHalfOpenBreakerThatProbesAloneOpenedClosesWhenTheyAreAnswered() {
        AtomicInteger asked = new AtomicInteger();
        ProbedCarrier first = new ProbedCarrier(Mono.defer(() -> asked.getAndIncrement() < 2
                ? Mono.error(new CarrierException(CarrierException.Reason.UNREACHABLE, "connection refused", null))
                : Mono.empty()));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Carrier routing = routing(first, second, Duration.ofMillis(200), registry);
        routing.probeIdle(Duration.ZERO).block(WAIT);
        routing.probeIdle(Duration.ZERO).block(WAIT);
        assertThat(breakerState(registry, "first")).isEqualTo("open");

        await().atMost(WAIT).until(() -> "half_open".equals(breakerState(registry, "first")));
        routing.probeIdle(Duration.ZERO).block(WAIT);

        assertThat(breakerState(registry, "first")).as("no call to judge it: its probes do").isEqualTo("closed");
    }

    private static String breakerState(SimpleMeterRegistry registry, String carrier) {
        return registry.find("resilience4j.circuitbreaker.state").tag("name", carrier).gauges().stream()
                .filter(gauge -> gauge.value() == 1.0)
                .map(gauge -> gauge.getId().getTag("state"))
                .findFirst().orElse(null);
    }

    @Test
    void theGuardNeverCutsACreateCallBeforeTheCarriersOwnTimeout() {
        assertThat(RoutingCarriers.guardTimeout(Duration.ofSeconds(6), second)).isEqualTo(Duration.ofSeconds(6));
        assertThat(RoutingCarriers.guardTimeout(Duration.ofSeconds(6), new TimedCarrier(Duration.ofSeconds(5))))
                .isEqualTo(Duration.ofSeconds(6));
        assertThat(RoutingCarriers.guardTimeout(Duration.ofSeconds(5), new TimedCarrier(Duration.ofSeconds(5))))
                .isEqualTo(Duration.ofSeconds(6));
        assertThat(RoutingCarriers.guardTimeout(Duration.ofSeconds(6), new TimedCarrier(Duration.ofSeconds(60))))
                .isEqualTo(Duration.ofSeconds(61));
    }

    @Test
    void unreachableCarrierIsFailedOver() {
        Carrier routing = routing(failing(CarrierException.Reason.UNREACHABLE, null), second);

        StepVerifier.create(routing.place(command(), 1))
                .expectNext(new PlacedCall("sid-2", null, "second"))
                .expectComplete()
                .verify(WAIT);
        assertThat(secondPlaced).hasValue(1);
    }

    @Test
    void userTargetRefusedByTheSipTrunkGoesToTheVoiceGatewayAfterIt() {
        Carrier trunk = new StubCarrier(Mono.error(CarrierException.unsupportedTarget("no registered users")),
                Mono.empty());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Carrier routing = routing(trunk, second, Duration.ofSeconds(30), registry);

        StepVerifier.create(routing.place(command("user:alice"), 1))
                .expectNext(new PlacedCall("sid-2", null, "second"))
                .expectComplete()
                .verify(WAIT);
        assertThat(secondPlaced).hasValue(1);
        assertThat(registry.counter("dialer.dispatcher.carrier.failovers", "from", "first", "to", "second").count())
                .isEqualTo(1.0);
    }

    @Test
    void unsupportedTargetOfTheLastCarrierFailsTheAttemptWithItsCode() {
        Map<String, Carrier> only = new LinkedHashMap<>();
        only.put("trunk", new StubCarrier(Mono.error(CarrierException.unsupportedTarget("no registered users")),
                Mono.empty()));
        Carrier alone = RoutingCarriers.of(properties(Duration.ofSeconds(30)), only, new SimpleMeterRegistry());

        StepVerifier.create(alone.place(command("user:alice"), 1))
                .expectErrorSatisfies(error -> assertThat(((CarrierException) error).errorCode())
                        .isEqualTo(CarrierException.UNSUPPORTED_TARGET))
                .verify(WAIT);
    }

    @Test
    void aRouteEndingOnACarrierThatCannotAddressTheCalleeReportsTheOutageOfTheOneThatCan() {
        Carrier trunk = new StubCarrier(Mono.error(CarrierException.unsupportedTarget("no registered users")),
                Mono.empty());

        StepVerifier.create(routing(failing(CarrierException.Reason.UNREACHABLE, null), trunk)
                        .place(command("user:alice"), 1))
                .expectErrorSatisfies(error -> {
                    CarrierException failure = (CarrierException) error;
                    assertThat(failure.reason()).isEqualTo(CarrierException.Reason.UNREACHABLE);
                    assertThat(failure.isTechnical()).as("the call waits for the carrier").isTrue();
                })
                .verify(WAIT);
        StepVerifier.create(routing(failing(CarrierException.Reason.REJECTED, 429), trunk)
                        .place(command("user:alice"), 1))
                .expectErrorSatisfies(error -> assertThat(((CarrierException) error).isCapacityRefusal()).isTrue())
                .verify(WAIT);
    }

    @Test
    void aCallOnlyAnOpenCarrierCanAddressIsTriedAndWaitsForItWithoutHoldingItsLane() {
        Map<String, Carrier> carriers = new LinkedHashMap<>();
        carriers.put("gateway", failing(CarrierException.Reason.UNREACHABLE, null));
        carriers.put("trunk", new PlacingCarrier(command -> command.to().startsWith("user:")
                ? Mono.error(CarrierException.unsupportedTarget("no registered users"))
                : Mono.just(new PlacedCall("sid-2", null)), command -> !command.to().startsWith("user:")));
        Carrier routing = RoutingCarriers.of(properties(Duration.ofSeconds(30)), carriers, new SimpleMeterRegistry());
        for (int i = 0; i < 2; i++) {
            StepVerifier.create(routing.place(command(), 1)).expectNextCount(1).verifyComplete();
        }

        // The gateway's breaker is open: a lane whose head is a user: call is not held, so the caller ID's numbers
        // behind it still go out through the trunk; the user: call is refused as not tried, and waits.
        assertThat(routing.accepting(command("user:alice"))).isTrue();
        StepVerifier.create(routing.place(command("user:alice"), 1))
                .expectErrorSatisfies(error -> {
                    CarrierException failure = (CarrierException) error;
                    assertThat(failure.isTechnical()).isTrue();
                    assertThat(failure.getMessage()).contains("not tried");
                })
                .verify(WAIT);
    }

    @Test
    void aHalfOpenBreakerStopsAcceptingOnceItsProbesAreMadeAnsweredOrNot() {
        AtomicInteger asked = new AtomicInteger();
        Map<String, Carrier> carriers = new LinkedHashMap<>();
        carriers.put("gateway", new PlacingCarrier(command -> {
            int ask = asked.incrementAndGet();
            return ask <= 2 ? Mono.error(new CarrierException(CarrierException.Reason.UNREACHABLE, null, "down", null))
                    : ask == 3 ? Mono.just(new PlacedCall("sid-3", null)) : Mono.never();
        }, command -> true));
        Carrier routing = RoutingCarriers.of(properties(Duration.ofMillis(300)), carriers, new SimpleMeterRegistry());
        for (int i = 0; i < 2; i++) {
            StepVerifier.create(routing.place(command(), 1)).expectError(CarrierException.class).verify(WAIT);
        }
        assertThat(routing.accepting(command())).as("open").isFalse();
        await().atMost(WAIT).until(() -> routing.accepting(command()));

        // The first probe is answered at once; the breaker waits for all three before it decides.
        StepVerifier.create(routing.place(command(), 1)).expectNextCount(1).verifyComplete();
        assertThat(routing.accepting(command())).as("two probes left").isTrue();
        List<reactor.core.Disposable> probes = new java.util.ArrayList<>();
        probes.add(routing.place(command(), 1).subscribe(placed -> { }, error -> { }));
        assertThat(routing.accepting(command())).as("a probe left").isTrue();
        probes.add(routing.place(command(), 1).subscribe(placed -> { }, error -> { }));
        assertThat(routing.accepting(command())).as("every probe made, one answered").isFalse();

        probes.forEach(reactor.core.Disposable::dispose);
        assertThat(routing.accepting(command())).as("the probes given up").isTrue();
    }

    @Test
    void acceptsUntilEveryCarrierOfTheRouteHasItsBreakerOpenAndAgainOnceOneHalfOpens() {
        Duration openFor = Duration.ofSeconds(2); // long enough for the checks below on a loaded machine
        Carrier oneDown = routing(failing(CarrierException.Reason.UNREACHABLE, null), second, openFor);
        Carrier bothDown = routing(failing(CarrierException.Reason.UNREACHABLE, null),
                failing(CarrierException.Reason.UNREACHABLE, null), openFor);
        assertThat(bothDown.accepting(command())).isTrue();

        for (int i = 0; i < 2; i++) {
            StepVerifier.create(oneDown.place(command(), 1)).expectNextCount(1).expectComplete().verify(WAIT);
            StepVerifier.create(bothDown.place(command(), 1)).expectError(CarrierException.class).verify(WAIT);
        }

        // The first carrier's breaker is open in both; the second is healthy in one, open in the other.
        assertThat(oneDown.accepting(command())).isTrue();
        assertThat(bothDown.accepting(command())).isFalse();
        StepVerifier.create(bothDown.place(command(), 1))
                .expectErrorSatisfies(error -> assertThat(error.getMessage()).contains("not tried"))
                .verify(WAIT);
        // Half-open once the wait is over, without a request to move it on: the lanes held theirs.
        await().atMost(WAIT).until(() -> bothDown.accepting(command()));
    }

    /**
     * A 401 or 403 refuses the dialer's key (revoked, rotated), not the call: failed over, and counted against the
     * carrier's breaker, which opens.
     */
    @Test
    void aRefusalOfTheDialersCredentialsIsFailedOverAndOpensTheCarriersBreaker() {
        for (int status : new int[] {401, 403}) {
            Carrier revoked = routing(failing(CarrierException.Reason.REJECTED, status), second,
                    Duration.ofMinutes(1));

            for (int i = 0; i < 2; i++) {
                StepVerifier.create(revoked.place(command(), 1)).expectNextCount(1).expectComplete().verify(WAIT);
            }

            assertThat(revoked.trunkOf(command())).as("HTTP %d: the first carrier's breaker is open", status)
                    .isEqualTo("second");
        }
    }

    /** A 429 is a carrier at its limit, not a failing one: failed over, but its breaker stays closed. */
    @Test
    void aCapacityRefusalIsFailedOverWithoutOpeningTheCarriersBreaker() {
        Carrier limiting = routing(failing(CarrierException.Reason.REJECTED, 429), second, Duration.ofMinutes(1));

        for (int i = 0; i < 4; i++) {
            StepVerifier.create(limiting.place(command(), 1)).expectNextCount(1).expectComplete().verify(WAIT);
        }

        assertThat(limiting.trunkOf(command())).as("the first carrier's breaker is closed").isEqualTo("first");
    }

    @Test
    void aRefusalNamesTheCarrierThatMadeItNotTheOneTheRouteBeganWith() {
        Carrier bothRefuse = routing(failing(CarrierException.Reason.UNREACHABLE, null),
                failing(CarrierException.Reason.REJECTED, 429));
        Carrier firstRefuses = routing(failing(CarrierException.Reason.REJECTED, 400), second);

        StepVerifier.create(bothRefuse.place(command(), 1))
                .expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(CarrierException.class,
                        failure -> {
                            assertThat(failure.isCapacityRefusal()).isTrue();
                            assertThat(failure.carrier()).as("the carrier failed over to").isEqualTo("second");
                        }))
                .verify(WAIT);
        StepVerifier.create(firstRefuses.place(command(), 1))
                .expectErrorSatisfies(error -> assertThat(((CarrierException) error).carrier()).isEqualTo("first"))
                .verify(WAIT);
    }

    @Test
    void aCallIsPacedByTheTrunkOfTheFirstCarrierOfItsRouteThatWouldBeTried() {
        Carrier oneDown = routing(failing(CarrierException.Reason.UNREACHABLE, null), second, Duration.ofMinutes(1));
        assertThat(oneDown.trunks()).containsExactly("first", "second");
        assertThat(oneDown.trunkOf(command())).isEqualTo("first");

        for (int i = 0; i < 2; i++) {
            StepVerifier.create(oneDown.place(command(), 1)).expectNextCount(1).expectComplete().verify(WAIT);
        }

        assertThat(oneDown.trunkOf(command())).as("first's breaker is open").isEqualTo("second");
    }

    @Test
    void aCallIsPacedByTheTrunkOfTheFirstCarrierOfItsRouteThatCanAddressIt() {
        Carrier numbersOnly = new PlacingCarrier(
                command -> Mono.error(CarrierException.unsupportedTarget("no registered users")),
                command -> !command.to().startsWith("user:"));
        Carrier routing = routing(numbersOnly, second);

        assertThat(routing.trunkOf(command())).isEqualTo("first");
        assertThat(routing.trunkOf(command("user:alice"))).isEqualTo("second");
    }

    @Test
    void statusComesFromTheCarrierThatKnowsTheCall() {
        CallReport report = new CallReport(AttemptStatus.COMPLETED, "completed", "sid-1", 200, "OK", 12);
        Carrier routing = routing(new StubCarrier(Mono.never(), Mono.empty()),
                new StubCarrier(Mono.never(), Mono.just(report)));

        StepVerifier.create(routing.status(REF)).expectNext(report).expectComplete().verify(WAIT);
    }

    @Test
    void carrierThatCannotBeAskedNeverPassesForNoSuchCall() {
        Carrier routing = routing(new StubCarrier(Mono.never(), Mono.error(new CarrierException(
                        CarrierException.Reason.UNREACHABLE, "down", null))),
                new StubCarrier(Mono.never(), Mono.empty()));

        StepVerifier.create(routing.status(REF)).expectError(CarrierException.class).verify(WAIT);
    }

    @Test
    void noCarrierKnowingTheCallIsEmpty() {
        Carrier routing = routing(new StubCarrier(Mono.never(), Mono.empty()), second);

        StepVerifier.create(routing.status(REF)).expectComplete().verify(WAIT);
    }

    @Test
    void hangUpThatNoCarrierCouldTakeIsAnErrorNotACallThatIsOver() {
        Carrier routing = routing(hangingUp(Mono.error(new CarrierException(CarrierException.Reason.REJECTED, 503,
                "carrier answered HTTP 503 to the update", null))), hangingUp(Mono.empty()));

        StepVerifier.create(routing.hangUp(REF))
                .expectErrorSatisfies(error -> assertThat(((CarrierException) error).httpStatus()).isEqualTo(503))
                .verify(WAIT);
    }

    @Test
    void hangUpIsTakenByTheCarrierThatKnowsTheCallWhenAnotherCannotBeAsked() {
        Carrier routing = routing(hangingUp(Mono.error(new CarrierException(CarrierException.Reason.UNREACHABLE,
                "down", null))), hangingUp(Mono.just(false)));

        StepVerifier.create(routing.hangUp(REF)).expectNext(false).expectComplete().verify(WAIT);
    }

    @Test
    void hangUpOfACallNoCarrierKnowsIsEmpty() {
        Carrier routing = routing(hangingUp(Mono.empty()), hangingUp(Mono.empty()));

        StepVerifier.create(routing.hangUp(REF)).expectComplete().verify(WAIT);
    }

    @Test
    void hangUpSaysTheCallWasAnsweredWhenItsCarrierFoundItTalking() {
        Carrier routing = routing(hangingUp(Mono.empty()), hangingUp(Mono.just(true)));

        StepVerifier.create(routing.hangUp(REF)).expectNext(true).expectComplete().verify(WAIT);
    }

    private static Carrier hangingUp(Mono<Boolean> answer) {
        return new StubCarrier(Mono.never(), Mono.empty(), answer);
    }

    private static Carrier failing(CarrierException.Reason reason, Integer http) {
        return new StubCarrier(Mono.error(new CarrierException(reason, http, "first failed", null)), Mono.empty());
    }

    private static Carrier routing(Carrier first, Carrier then) {
        return routing(first, then, Duration.ofSeconds(30));
    }

    /** Breakers that open after two requests, half of them failed, for {@code openFor}. */
    private static Carrier routing(Carrier first, Carrier then, Duration openFor) {
        return routing(first, then, openFor, new SimpleMeterRegistry());
    }

    private static Carrier routing(Carrier first, Carrier then, Duration openFor, SimpleMeterRegistry registry) {
        Map<String, Carrier> carriers = new LinkedHashMap<>();
        carriers.put("first", first);
        carriers.put("second", then);
        return RoutingCarriers.of(properties(openFor), carriers, registry);
    }

    private static CarrierRoutingProperties properties(Duration openFor) {
        return new CarrierRoutingProperties(Map.of(), List.of(), Map.of(), Map.of(),
                new CarrierRoutingProperties.Guard(Duration.ofSeconds(2), 10, 50, 2, openFor, Duration.ZERO));
    }

    private static CallCommand command() {
        return command("+4930111111");
    }

    private static CallCommand command(String to) {
        return new CallCommand(1, "req", "acc", "+4930000000", to, null, "a.wav", null, 0, 3, 1, null,
                null, null, null, null, null, null, null, Instant.now());
    }

    private record StubCarrier(Mono<PlacedCall> placed, Mono<CallReport> report, Mono<Boolean> hungUp)
            implements Carrier {

        StubCarrier(Mono<PlacedCall> placed, Mono<CallReport> report) {
            this(placed, report, Mono.empty());
        }

        @Override
        public Mono<PlacedCall> place(CallCommand command, int dial) {
            return placed;
        }

        @Override
        public Mono<CallReport> status(CallRef call) {
            return report;
        }

        @Override
        public Mono<Boolean> hangUp(CallRef call) {
            return hungUp;
        }
    }

    /** A stand-in carrier that knows no call: asked about one, or to cancel it, it answers that there is none. */
    private interface KnowsNoCall extends Carrier {

        @Override
        default Mono<CallReport> status(CallRef call) {
            return Mono.empty();
        }

        @Override
        default Mono<Boolean> hangUp(CallRef call) {
            return Mono.empty();
        }
    }

    /** A carrier with a request timeout of its own, that places nothing. */
    private record TimedCarrier(Duration requestTimeout) implements KnowsNoCall {

        @Override
        public Mono<PlacedCall> place(CallCommand command, int dial) {
            return Mono.never();
        }
    }

    /** A carrier that probes, answering each probe as {@code answer} says, and places each call as {@code placed}. */
    private record ProbedCarrier(Mono<Void> answer, Mono<PlacedCall> placed, AtomicInteger probed)
            implements KnowsNoCall {

        ProbedCarrier(Mono<Void> answer) {
            this(answer, Mono.just(new PlacedCall("sid-1", null)));
        }

        ProbedCarrier(Mono<Void> answer, Mono<PlacedCall> placed) {
            this(answer, placed, new AtomicInteger());
        }

        @Override
        public boolean probes() {
            return true;
        }

        @Override
        public Mono<Void> probe() {
            return Mono.defer(() -> {
                probed.incrementAndGet();
                return answer;
            });
        }

        @Override
        public Mono<PlacedCall> place(CallCommand command, int dial) {
            return placed;
        }
    }

    /** A carrier that places as {@code placing} says, reaches what {@code reach} says, and knows no call. */
    private record PlacingCarrier(java.util.function.Function<CallCommand, Mono<PlacedCall>> placing,
                                  java.util.function.Predicate<CallCommand> reach) implements KnowsNoCall {

        @Override
        public Mono<PlacedCall> place(CallCommand command, int dial) {
            return placing.apply(command);
        }

        @Override
        public boolean reaches(CallCommand command) {
            return reach.test(command);
        }
    }
}
