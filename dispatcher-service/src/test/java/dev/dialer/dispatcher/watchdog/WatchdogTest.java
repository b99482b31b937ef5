package dev.dialer.dispatcher.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.QuietAttempt;
import dev.dialer.dispatcher.callback.CallbackApplier;
import dev.dialer.dispatcher.callback.CarrierCallback;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.dispatcher.carrier.CallReport;
import dev.dialer.dispatcher.carrier.Carrier;
import dev.dialer.dispatcher.carrier.CarrierException;
import dev.dialer.dispatcher.carrier.CarrierProperties;
import dev.dialer.dispatcher.carrier.PlacedCall;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The watchdog's polls, with the ledger and the applier stubbed (their statements are covered by the ITs). */
class WatchdogTest {

    private static final Instant NOW = Instant.parse("2026-01-01T10:00:00Z");
    private static final CarrierProperties CARRIER = new CarrierProperties("http://vg", "acc", null, "player", null,
            null, Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofHours(1), Duration.ofMinutes(5), false,
            Duration.ofMinutes(10));

    private final AttemptLedger ledger = mock(AttemptLedger.class);
    private final CallbackApplier applier = mock(CallbackApplier.class);
    private final List<Integer> claims = Collections.synchronizedList(new ArrayList<>());
    private final List<String> touched = Collections.synchronizedList(new ArrayList<>());
    private final List<String> hungUp = Collections.synchronizedList(new ArrayList<>());
    private final List<CarrierCallback> applied = Collections.synchronizedList(new ArrayList<>());

    @Test
    void aPollWhoseClaimsComeBackFullClaimsAgainAtOnceUntilOneIsNot() {
        // Five quiet attempts, claimed two at a time, each still ringing at the carrier: one poll settles them all.
        Deque<QuietAttempt> quiet = new ArrayDeque<>();
        for (int i = 0; i < 5; i++) {
            quiet.add(new QuietAttempt("wd-" + i, 1, AttemptStatus.RINGING, "call-" + i));
        }
        claimFrom(limit -> {
            List<QuietAttempt> claimed = new ArrayList<>();
            while (claimed.size() < limit && !quiet.isEmpty()) {
                claimed.add(quiet.poll());
            }
            return claimed;
        });
        Watchdog watchdog = watchdog(call -> Mono.just(new CallReport(AttemptStatus.RINGING, "ringing",
                call.providerCallId(), 180, "Ringing", null)));

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(claims).containsExactly(2, 2, 1);
        assertThat(touched).containsExactlyInAnyOrder("wd-0", "wd-1", "wd-2", "wd-3", "wd-4");
    }

    @Test
    void aFullClaimOfWhichNothingCouldBeReconciledEndsThePoll() {
        claimFrom(limit -> List.of(new QuietAttempt("wd-a", 1, AttemptStatus.RINGING, "call-a"),
                new QuietAttempt("wd-b", 1, AttemptStatus.RINGING, "call-b")));
        Watchdog watchdog = watchdog(call -> Mono.error(new CarrierException(CarrierException.Reason.UNREACHABLE,
                "connection refused", null)));

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(claims).as("claiming again would only meet the carrier that cannot be asked").containsExactly(2);
        assertThat(touched).isEmpty();
    }

    @Test
    void anAnsweredCallTheCarrierStillReportsAlivePastItsTimeLimitIsHungUpAndEndsCompleted() {
        // Dialled three hours ago with the defaults (ring 60 s, time limit an hour): jambonz's record is stale.
        claimFrom(limit -> List.of(quiet("wd-stale", AttemptStatus.IN_PROGRESS, NOW.minus(Duration.ofHours(3)),
                Map.of())));
        Watchdog watchdog = watchdog(call -> Mono.just(new CallReport(AttemptStatus.IN_PROGRESS, "in-progress",
                call.providerCallId(), 200, "OK", null)));

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(touched).as("a stale record is no news").isEmpty();
        assertThat(hungUp).containsExactly("call-wd-stale");
        assertThat(applied).extracting(CarrierCallback::status).containsExactly(AttemptStatus.COMPLETED);
    }

    @Test
    void aCallGivenALongerTimeLimitIsStillAliveWhileItMayTalk() {
        claimFrom(limit -> List.of(quiet("wd-long", AttemptStatus.IN_PROGRESS, NOW.minus(Duration.ofHours(3)),
                Map.of("timeLimit", 14_400))));
        Watchdog watchdog = watchdog(call -> Mono.just(new CallReport(AttemptStatus.IN_PROGRESS, "in-progress",
                call.providerCallId(), 200, "OK", null)));

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(touched).containsExactly("wd-long");
        assertThat(hungUp).isEmpty();
        assertThat(applied).extracting(CarrierCallback::status).containsExactly(AttemptStatus.IN_PROGRESS);
    }

    @Test
    void aCallStillRingingPastItsRingTimeoutAndTimeLimitEndsNoAnswer() {
        claimFrom(limit -> List.of(quiet("wd-ring", AttemptStatus.RINGING, NOW.minus(Duration.ofHours(2)), Map.of())));
        Watchdog watchdog = watchdog(call -> Mono.just(new CallReport(AttemptStatus.RINGING, "ringing",
                call.providerCallId(), 180, "Ringing", null)));

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(hungUp).containsExactly("call-wd-ring");
        assertThat(applied).extracting(CarrierCallback::status).containsExactly(AttemptStatus.NO_ANSWER);
    }

    @Test
    void anAnsweredCallTheCarrierNoLongerKnowsEndsCompletedNotStatusTimeout() {
        claimFrom(limit -> List.of(quiet("wd-gone", AttemptStatus.IN_PROGRESS, NOW.minus(Duration.ofHours(13)),
                Map.of())));
        Watchdog watchdog = watchdog(call -> Mono.empty());

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(applied).extracting(CarrierCallback::status).containsExactly(AttemptStatus.COMPLETED);
        assertThat(applied).extracting(CarrierCallback::providerCallId).containsExactly("call-wd-gone");
    }

    private static QuietAttempt quiet(String requestId, AttemptStatus status, Instant dialled,
                                      Map<String, Object> options) {
        return new QuietAttempt(requestId, 1, status, "call-" + requestId, dialled, options);
    }

    private void claimFrom(Function<Integer, List<QuietAttempt>> claim) {
        when(ledger.claimQuiet(any(), any(), any(), anyInt())).thenAnswer(invocation -> {
            List<QuietAttempt> claimed = claim.apply(invocation.getArgument(3));
            claims.add(claimed.size());
            return Flux.fromIterable(claimed);
        });
        when(ledger.touch(anyString(), anyInt())).thenAnswer(invocation -> Mono.fromRunnable(
                () -> touched.add(invocation.getArgument(0))));
        when(applier.apply(any())).thenAnswer(invocation -> {
            applied.add(invocation.getArgument(0));
            return Mono.just(CallbackApplier.Result.APPLIED);
        });
    }

    private Watchdog watchdog(Function<CallRef, Mono<CallReport>> status) {
        Carrier carrier = new Carrier() {
            @Override
            public Mono<PlacedCall> place(CallCommand command, int dial) {
                return Mono.error(new AssertionError("the watchdog never dials"));
            }

            @Override
            public Mono<CallReport> status(CallRef call) {
                return status.apply(call);
            }

            @Override
            public Mono<Boolean> hangUp(CallRef call) {
                hungUp.add(call.providerCallId());
                return Mono.just(true);
            }
        };
        return new Watchdog(ledger, carrier, applier, null, new WatchdogProperties(true, Duration.ofMinutes(5),
                Duration.ofSeconds(30), Duration.ofMinutes(2), 2, Duration.ofMinutes(2)), CARRIER,
                Clock.fixed(NOW, java.time.ZoneOffset.UTC), new SimpleMeterRegistry(),
                null, null);
    }
}
