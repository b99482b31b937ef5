package dev.dialer.dispatcher.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.atLeast;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.QuietAttempt;
import dev.dialer.dispatcher.callback.CallbackApplier;
import dev.dialer.dispatcher.callback.CarrierCallback;
import dev.dialer.dispatcher.callback.SipStatusReports;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.dispatcher.carrier.CallReport;
import dev.dialer.dispatcher.carrier.Carrier;
import dev.dialer.dispatcher.carrier.CarrierException;
import dev.dialer.dispatcher.carrier.CarrierProperties;
import dev.dialer.dispatcher.carrier.PlacedCall;
import dev.dialer.dispatcher.carrier.sip.SipTrunkProperties;
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
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
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
            Duration.ofMinutes(10), null);

    private final AttemptLedger ledger = mock(AttemptLedger.class);

    @Test
    void aCallWithoutOptionsLivesAsLongAsTheLongerOfTheEnabledCarriersDefaults() {
        // An answered SIP call may talk for the trunk's 2 hours: taken as past its life after the Voice Gateway's
        // one hour, it was ended answered while it still talked.
        assertThat(Watchdog.CallDefaults.of(CARRIER, sip(true, Duration.ofSeconds(45), Duration.ofHours(2))))
                .isEqualTo(new Watchdog.CallDefaults(Duration.ofSeconds(60), Duration.ofHours(2)));
        assertThat(Watchdog.CallDefaults.of(CARRIER, sip(true, Duration.ofSeconds(90), Duration.ofMinutes(30))))
                .isEqualTo(new Watchdog.CallDefaults(Duration.ofSeconds(90), Duration.ofHours(1)));
        // A trunk that is not enabled places no call.
        assertThat(Watchdog.CallDefaults.of(CARRIER, sip(false, Duration.ofSeconds(90), Duration.ofHours(2))))
                .isEqualTo(new Watchdog.CallDefaults(Duration.ofSeconds(60), Duration.ofHours(1)));
    }

    private static SipTrunkProperties sip(boolean enabled, Duration ringTimeout, Duration timeLimit) {
        return new SipTrunkProperties(enabled, "127.0.0.1", 5060, "udp", "127.0.0.1", 0, null, null, null, null, 40000,
                ringTimeout, timeLimit, 2, Duration.ofSeconds(30), 3, Duration.ofSeconds(10), Duration.ofSeconds(2),
                Duration.ofMillis(500));
    }
    private final CallbackApplier applier = mock(CallbackApplier.class);
    private final SipStatusReports owners = mock(SipStatusReports.class);
    /** The ends handed to {@link SipStatusReports#endedHere}, by request id, with the caller ID they name. */
    private final Map<String, String> endedHere = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<Integer> claims = Collections.synchronizedList(new ArrayList<>());
    private final List<String> touched = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Instant> leased = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<String> hungUp = Collections.synchronizedList(new ArrayList<>());
    private final List<CarrierCallback> applied = Collections.synchronizedList(new ArrayList<>());
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    /** What the applier makes of every report. */
    private CallbackApplier.Result result = CallbackApplier.Result.APPLIED;
    /** Whether every attempt has left the dial it was claimed on (dialled again since, or waiting to be). */
    private boolean leftDial;
    /** Where every attempt stands when the applier's refusal is looked into: by default, ended on dial 1. */
    private AttemptLedger.Standing standing = new AttemptLedger.Standing(1, true, AttemptStatus.COMPLETED);

    @Test
    void aPollWhoseClaimsComeBackFullClaimsAgainAtOnceUntilOneIsNot() {
        // Five quiet attempts, claimed two at a time, each still ringing at the carrier: one poll settles them all.
        Deque<QuietAttempt> quiet = new ArrayDeque<>();
        for (int i = 0; i < 5; i++) {
            quiet.add(new QuietAttempt("wd-" + i, 1, 1, AttemptStatus.RINGING, "call-" + i));
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
    void aClaimThatHangsIsGivenUpAtItsLeaseAndTheNextPollClaimsAgain() {
        AtomicInteger claimed = new AtomicInteger();
        when(ledger.claimQuiet(any(), any(), any(), anyInt()))
                .thenAnswer(invocation -> claimed.incrementAndGet() == 1 ? Flux.never() : Flux.empty());
        Watchdog watchdog = watchdog(call -> Mono.empty());

        // Polls every 30 s, claims leased for 2 minutes.
        StepVerifier.withVirtualTime(watchdog::run)
                .thenAwait(Duration.ofMinutes(4))
                .then(() -> assertThat(claimed).as("claimed again after the hung claim's lease").hasValueGreaterThan(1))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void aClaimThatFailsIsNoSignOfLife() {
        when(ledger.claimQuiet(any(), any(), any(), anyInt()))
                .thenAnswer(invocation -> Flux.error(new IllegalStateException("permission denied for table")));
        AtomicInteger polls = new AtomicInteger();
        WatchdogHeartbeat heartbeat = new WatchdogHeartbeat(Clock.systemUTC(), registry) {
            @Override
            void polled() {
                polls.incrementAndGet();
                super.polled();
            }
        };
        Watchdog watchdog = watchdog(call -> Mono.empty(), heartbeat);

        StepVerifier.withVirtualTime(watchdog::run)
                .thenAwait(Duration.ofMinutes(5))
                .then(() -> assertThat(polls).as("no poll was made").hasValue(0))
                .thenCancel()
                .verify(Duration.ofSeconds(10));
        // Tried all along, each time refused: not a watchdog that never ran.
        verify(ledger, atLeast(2)).claimQuiet(any(), any(), any(), anyInt());
    }

    @Test
    void aFullClaimOfWhichNothingCouldBeReconciledEndsThePoll() {
        claimFrom(limit -> List.of(new QuietAttempt("wd-a", 1, 1, AttemptStatus.RINGING, "call-a"),
                new QuietAttempt("wd-b", 1, 1, AttemptStatus.RINGING, "call-b")));
        Watchdog watchdog = watchdog(call -> Mono.error(new CarrierException(CarrierException.Reason.UNREACHABLE,
                "connection refused", null)));

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(claims).as("claiming again would only meet the carrier that cannot be asked").containsExactly(2);
        assertThat(touched).isEmpty();
    }

    @Test
    void aCarrierThatCannotBeAskedIsWaitedForUntilGiveUpAfterHasPassedSinceTheCallsLifeEnded() {
        // Defaults: ring 60 s, time limit an hour, margin 5 min: the call's life ends 1 h 6 min after its dial, and the
        // carrier is given up on 15 min after that.
        claimOnce(quiet("wd-wait", AttemptStatus.RINGING, NOW.minus(Duration.ofMinutes(80)), Map.of()),
                quiet("wd-ring", AttemptStatus.RINGING, NOW.minus(Duration.ofMinutes(82)), Map.of()),
                quiet("wd-talk", AttemptStatus.IN_PROGRESS, NOW.minus(Duration.ofMinutes(82)), Map.of()),
                quiet("wd-long", AttemptStatus.RINGING, NOW.minus(Duration.ofMinutes(82)), Map.of("timeLimit", 7200)));
        when(ledger.endContext(anyString(), anyInt()))
                .thenReturn(Mono.just(new AttemptLedger.EndContext(false, null)));
        Watchdog watchdog = watchdog(call -> Mono.error(new CarrierException(CarrierException.Reason.REJECTED,
                "HTTP 503", null)));

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(applied).as("ended as calls the carrier no longer knows: rang, or answered and over")
                .extracting(CarrierCallback::requestId, CarrierCallback::status, CarrierCallback::from)
                .containsExactlyInAnyOrder(
                        tuple("wd-ring", AttemptStatus.NO_ANSWER, AttemptStatus.RINGING),
                        tuple("wd-talk", AttemptStatus.COMPLETED, AttemptStatus.IN_PROGRESS));
        assertThat(registry.counter(Watchdog.GIVEN_UP).count()).isEqualTo(2.0);
        assertThat(outcomes()).containsEntry(Watchdog.CARRIER_ERROR, 2.0).containsEntry(Watchdog.RANG_GONE, 1.0)
                .containsEntry("answered_gone", 1.0);
    }

    @Test
    void aCallTheCarrierNeverNamedWaitsForTheEndOfItsOwnLifeNotTheDefaults() {
        // No call id: the create-call answer was lost and no callback came. Defaults: ring 60 s, an hour, margin 5 min.
        claimOnce(unnamed("wd-long", NOW.minus(Duration.ofMinutes(82)), Map.of("timeLimit", 7200)),
                unnamed("wd-long-over", NOW.minus(Duration.ofMinutes(127)), Map.of("timeLimit", 7200)),
                unnamed("wd-default", NOW.minus(Duration.ofMinutes(67)), Map.of()));
        when(ledger.endContext(anyString(), anyInt()))
                .thenReturn(Mono.just(new AttemptLedger.EndContext(false, null)));
        List<CallRef> asked = new ArrayList<>();
        Watchdog watchdog = watchdog(call -> {
            asked.add(call);
            return Mono.empty();
        });

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(asked).as("a call without an id cannot be asked about").isEmpty();
        assertThat(applied).as("ended once its own ring timeout, time limit and margin have passed")
                .extracting(CarrierCallback::requestId, CarrierCallback::status, CarrierCallback::from)
                .containsExactlyInAnyOrder(tuple("wd-long-over", AttemptStatus.NO_ANSWER, AttemptStatus.RINGING),
                        tuple("wd-default", AttemptStatus.NO_ANSWER, AttemptStatus.RINGING));
        assertThat(outcomes()).containsEntry(Watchdog.AWAITING_LIFE, 1.0).containsEntry(Watchdog.RANG_GONE, 2.0);
        assertThat(touched).isEmpty();
        assertThat(leased).as("left to the claims no earlier than the end of its life, not claimed at every lease")
                .containsExactly(Map.entry("wd-long", NOW.minus(Duration.ofMinutes(82)).plusSeconds(60 + 7200)
                        .plus(Duration.ofMinutes(5))));
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
        assertThat(endedHere).as("the end goes to the caller ID's owner, which may hold the call's trunk slot")
                .containsExactly(Map.entry("wd-gone", "+49305551"));
    }

    @Test
    void anEndTheLedgerRefusedAsLateGoesToNoOwner() {
        result = CallbackApplier.Result.IGNORED;
        claimFrom(limit -> List.of(quiet("wd-late", AttemptStatus.IN_PROGRESS, NOW.minus(Duration.ofHours(13)),
                Map.of())));

        StepVerifier.create(watchdog(call -> Mono.empty()).reconcileQuiet()).expectComplete()
                .verify(Duration.ofSeconds(10));

        assertThat(applied).hasSize(1);
        assertThat(endedHere).as("whoever ended it freed what it held").isEmpty();
    }

    /**
     * jambonz forgets an answered call 12 hours after its last change, the answer, and posts nothing more until the
     * end: a call given a time limit of a day may still talk when it is forgotten.
     */
    @Test
    void anAnsweredCallTheCarrierNoLongerKnowsWaitsForTheEndOfItsOwnLife() {
        Instant dialled = NOW.minus(Duration.ofHours(13));
        claimOnce(quiet("wd-day", AttemptStatus.IN_PROGRESS, dialled, Map.of("timeLimit", 86_400)),
                quiet("wd-day-over", AttemptStatus.IN_PROGRESS, NOW.minus(Duration.ofHours(25)),
                        Map.of("timeLimit", 86_400)));
        Watchdog watchdog = watchdog(call -> Mono.empty());

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(applied).as("only the call whose own life is over ends")
                .extracting(CarrierCallback::requestId, CarrierCallback::status)
                .containsExactly(tuple("wd-day-over", AttemptStatus.COMPLETED));
        assertThat(leased).containsExactly(Map.entry("wd-day", dialled.plusSeconds(60 + 86_400)
                .plus(Duration.ofMinutes(5))));
        assertThat(outcomes()).containsEntry(Watchdog.AWAITING_LIFE, 1.0).containsEntry("answered_gone", 1.0);
    }

    /** jambonz forgets a call an hour after its last change when that was not final: a ringing call's end lost. */
    @Test
    void aRingingCallTheCarrierNoLongerKnowsEndsNoAnswerNotStatusTimeout() {
        claimFrom(limit -> List.of(quiet("wd-rang", AttemptStatus.RINGING, NOW.minus(Duration.ofHours(2)),
                Map.of())));
        when(ledger.endContext(anyString(), anyInt()))
                .thenReturn(Mono.just(new AttemptLedger.EndContext(false, null)));
        Watchdog watchdog = watchdog(call -> Mono.empty());

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(applied).extracting(CarrierCallback::status).containsExactly(AttemptStatus.NO_ANSWER);
        assertThat(applied).extracting(CarrierCallback::providerCallId).containsExactly("call-wd-rang");
        assertThat(registry.counter("dialer.dispatcher.watchdog.reconciled", "outcome", "rang_gone").count())
                .isEqualTo(1.0);
    }

    @Test
    void everyAnswerIsAppliedAsAReportOnTheDialAndCallTheCarrierWasAskedAbout() {
        // Dial 3 of each attempt: answered by the carrier, still ringing, stale, and gone after an answer.
        claimOnce(new QuietAttempt("wd-done", 2, 3, AttemptStatus.RINGING, "call-done"),
                new QuietAttempt("wd-ringing", 2, 3, AttemptStatus.RINGING, "call-ringing", NOW, Map.of()),
                new QuietAttempt("wd-stale", 2, 3, AttemptStatus.IN_PROGRESS, "call-stale",
                        NOW.minus(Duration.ofHours(3)), Map.of()),
                new QuietAttempt("wd-gone", 2, 3, AttemptStatus.IN_PROGRESS, "call-gone"));
        Watchdog watchdog = watchdog(call -> switch (call.requestId()) {
            case "wd-done" -> Mono.just(new CallReport(AttemptStatus.COMPLETED, "completed", call.providerCallId(),
                    200, "OK", 42));
            case "wd-gone" -> Mono.empty();
            default -> Mono.just(new CallReport(AttemptStatus.RINGING, "ringing", call.providerCallId(), 180,
                    "Ringing", null));
        });

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(applied).hasSize(4).allSatisfy(report -> {
            assertThat(report.dial()).as("the dial claimed").isEqualTo(3);
            assertThat(report.callBound()).as("bound to the call asked about").isTrue();
            assertThat(report.providerCallId()).isEqualTo("call-" + report.requestId().substring(3));
            assertThat(report.takenOver()).isFalse();
        });
        assertThat(touched).containsExactly("wd-ringing");
        // The carrier's raw status is what it said: nothing for a call it no longer knows, never the end inferred.
        assertThat(applied).filteredOn(report -> report.status().isTerminal())
                .extracting(CarrierCallback::requestId, CarrierCallback::status, CarrierCallback::providerStatus)
                .containsExactlyInAnyOrder(tuple("wd-done", AttemptStatus.COMPLETED, "completed"),
                        tuple("wd-stale", AttemptStatus.COMPLETED, "ringing"),
                        tuple("wd-gone", AttemptStatus.COMPLETED, null));
        assertThat(outcomes()).containsEntry("carrier_answered", 1.0).containsEntry("still_alive", 1.0)
                .containsEntry("stale_alive", 1.0).containsEntry("answered_gone", 1.0)
                .containsEntry(Watchdog.OTHER_CALL, 0.0);
    }

    @Test
    void anAnswerAboutADialTheAttemptHasLeftChangesNothingAndIsCountedOtherCall() {
        // Between the claim and the answer each attempt was requeued and dialled again: the ledger refuses every
        // report about the dial claimed, and the still ringing one touches nothing.
        result = CallbackApplier.Result.IGNORED;
        leftDial = true;
        standing = new AttemptLedger.Standing(2, true, AttemptStatus.RINGING);
        claimOnce(new QuietAttempt("wd-done", 1, 1, AttemptStatus.RINGING, "call-done"),
                new QuietAttempt("wd-ringing", 1, 1, AttemptStatus.RINGING, "call-ringing", NOW, Map.of()),
                new QuietAttempt("wd-stale", 1, 1, AttemptStatus.IN_PROGRESS, "call-stale",
                        NOW.minus(Duration.ofHours(3)), Map.of()),
                new QuietAttempt("wd-gone", 1, 1, AttemptStatus.IN_PROGRESS, "call-gone"));
        Watchdog watchdog = watchdog(call -> switch (call.requestId()) {
            case "wd-done" -> Mono.just(new CallReport(AttemptStatus.NO_ANSWER, "no-answer", call.providerCallId(),
                    487, "Request Terminated", null));
            case "wd-gone" -> Mono.empty();
            default -> Mono.just(new CallReport(AttemptStatus.RINGING, "ringing", call.providerCallId(), 180,
                    "Ringing", null));
        });

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(touched).isEmpty();
        assertThat(outcomes()).containsEntry(Watchdog.OTHER_CALL, 4.0).containsEntry("carrier_answered", 0.0)
                .containsEntry("still_alive", 0.0).containsEntry("stale_alive", 0.0)
                .containsEntry("answered_gone", 0.0);
    }

    @Test
    void aReportRefusedAsLateOnTheDialClaimedIsNotCountedOtherCall() {
        // The attempt ended meanwhile by its own callback, on the dial claimed.
        result = CallbackApplier.Result.IGNORED;
        claimOnce(new QuietAttempt("wd-late", 1, 1, AttemptStatus.RINGING, "call-late"));
        Watchdog watchdog = watchdog(call -> Mono.just(new CallReport(AttemptStatus.BUSY, "busy",
                call.providerCallId(), 486, "Busy Here", null)));

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(outcomes()).containsEntry("carrier_answered", 1.0).containsEntry(Watchdog.OTHER_CALL, 0.0);
    }

    @Test
    void anEndInferredFromTheStatusClaimedHoldsOnlyFromThatStatusAndNewsSinceIsCountedApart() {
        // Ringing when claimed; an in-progress callback came before the carrier said it knows the call no more.
        result = CallbackApplier.Result.IGNORED;
        standing = new AttemptLedger.Standing(1, true, AttemptStatus.IN_PROGRESS);
        claimOnce(quiet("wd-news", AttemptStatus.RINGING, NOW.minus(Duration.ofHours(2)), Map.of()));
        when(ledger.endContext(anyString(), anyInt()))
                .thenReturn(Mono.just(new AttemptLedger.EndContext(false, null)));
        Watchdog watchdog = watchdog(call -> Mono.empty());

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(applied).singleElement().satisfies(report -> {
            assertThat(report.status()).isEqualTo(AttemptStatus.NO_ANSWER);
            assertThat(report.from()).as("only from the status claimed").isEqualTo(AttemptStatus.RINGING);
        });
        assertThat(outcomes()).containsEntry(Watchdog.NEWS_MEANWHILE, 1.0).containsEntry("rang_gone", 0.0)
                .containsEntry(Watchdog.OTHER_CALL, 0.0);
    }

    @Test
    void aCarrierReportTheLedgerRefusedIsNotCountedAsNewsMeanwhile() {
        // The carrier's own word is not bound to the status claimed: its refusal is never for news since the claim.
        result = CallbackApplier.Result.IGNORED;
        standing = new AttemptLedger.Standing(1, true, AttemptStatus.IN_PROGRESS);
        claimOnce(quiet("wd-told-late", AttemptStatus.RINGING, NOW, Map.of()));
        Watchdog watchdog = watchdog(call -> Mono.just(new CallReport(AttemptStatus.BUSY, "busy",
                call.providerCallId(), 486, "Busy Here", null)));

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(outcomes()).containsEntry("carrier_answered", 1.0).containsEntry(Watchdog.NEWS_MEANWHILE, 0.0);
    }

    @Test
    void whatTheCarrierSaysHoldsFromWhateverStatusTheAttemptIsIn() {
        claimOnce(quiet("wd-told", AttemptStatus.RINGING, NOW, Map.of()));
        Watchdog watchdog = watchdog(call -> Mono.just(new CallReport(AttemptStatus.BUSY, "busy",
                call.providerCallId(), 486, "Busy Here", null)));

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(applied).singleElement().extracting(CarrierCallback::from).isNull();
    }

    @Test
    void aCarrierAnswerThatCannotBeRecordedIsCountedApartFromACarrierThatCannotBeAsked() {
        claimOnce(new QuietAttempt("wd-db", 1, 1, AttemptStatus.RINGING, "call-db"),
                new QuietAttempt("wd-down", 1, 1, AttemptStatus.RINGING, "call-down"));
        when(applier.apply(any())).thenReturn(Mono.error(new IllegalStateException("PostgreSQL is away")));
        Watchdog watchdog = watchdog(call -> call.requestId().equals("wd-db")
                ? Mono.just(new CallReport(AttemptStatus.BUSY, "busy", call.providerCallId(), 486, "Busy Here", null))
                : Mono.error(new CarrierException(CarrierException.Reason.UNREACHABLE, "connection refused", null)));

        StepVerifier.create(watchdog.reconcileQuiet()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(outcomes()).containsEntry(Watchdog.LEDGER_ERROR, 1.0).containsEntry(Watchdog.CARRIER_ERROR, 1.0);
    }

    /** {@code dialer.dispatcher.watchdog.reconciled} by outcome. */
    private Map<String, Double> outcomes() {
        Map<String, Double> counts = new TreeMap<>();
        registry.find("dialer.dispatcher.watchdog.reconciled").counters()
                .forEach(counter -> counts.put(counter.getId().getTag("outcome"), counter.count()));
        return counts;
    }

    private static QuietAttempt quiet(String requestId, AttemptStatus status, Instant dialled,
                                      Map<String, Object> options) {
        return new QuietAttempt(requestId, 1, 1, status, "call-" + requestId, dialled, options);
    }

    private static QuietAttempt unnamed(String requestId, Instant dialled, Map<String, Object> options) {
        return new QuietAttempt(requestId, 1, 1, AttemptStatus.RINGING, null, dialled, options);
    }

    /** Each attempt claimed once, up to the claim's limit at a time, as the ledger's leases make it. */
    private void claimOnce(QuietAttempt... attempts) {
        Deque<QuietAttempt> quiet = new ArrayDeque<>(List.of(attempts));
        claimFrom(limit -> {
            List<QuietAttempt> claimed = new ArrayList<>();
            while (claimed.size() < limit && !quiet.isEmpty()) {
                claimed.add(quiet.poll());
            }
            return claimed;
        });
    }

    private void claimFrom(Function<Integer, List<QuietAttempt>> claim) {
        when(ledger.claimQuiet(any(), any(), any(), anyInt())).thenAnswer(invocation -> {
            List<QuietAttempt> claimed = claim.apply(invocation.getArgument(3));
            claims.add(claimed.size());
            return Flux.fromIterable(claimed);
        });
        when(ledger.touch(anyString(), anyInt(), anyInt())).thenAnswer(invocation -> Mono.fromCallable(() -> {
            if (leftDial) {
                return false;
            }
            touched.add(invocation.getArgument(0));
            return true;
        }));
        when(ledger.standing(anyString(), anyInt())).thenAnswer(invocation -> Mono.just(standing));
        when(ledger.leaseWatchUntil(anyString(), anyInt(), anyInt(), any())).thenAnswer(invocation ->
                Mono.fromRunnable(() -> leased.put(invocation.getArgument(0), invocation.getArgument(3))));
        when(applier.apply(any())).thenAnswer(invocation -> {
            applied.add(invocation.getArgument(0));
            return Mono.just(result);
        });
        when(ledger.findCommand(anyString(), anyInt())).thenAnswer(invocation -> Mono.just(new CallCommand(1,
                invocation.getArgument(0), "acc", "+4930555" + invocation.getArgument(1), "+4915112345678", null,
                "a.wav", null, 0, 3, invocation.getArgument(1), null, null, Map.of(), null, null, null, null, null,
                NOW)));
        when(owners.endedHere(any(), anyString())).thenAnswer(invocation -> Mono.fromRunnable(() -> endedHere.put(
                invocation.<CarrierCallback>getArgument(0).requestId(), invocation.getArgument(1))));
    }

    private Watchdog watchdog(Function<CallRef, Mono<CallReport>> status) {
        return watchdog(status, new WatchdogHeartbeat(Clock.systemUTC(), registry));
    }

    private Watchdog watchdog(Function<CallRef, Mono<CallReport>> status, WatchdogHeartbeat heartbeat) {
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
                Duration.ofSeconds(30), Duration.ofMinutes(2), 2, null, Duration.ofMinutes(15)),
                new Watchdog.CallDefaults(CARRIER.ringTimeout(), CARRIER.timeLimit()),
                Clock.fixed(NOW, java.time.ZoneOffset.UTC), registry,
                heartbeat, null, owners);
    }
}
