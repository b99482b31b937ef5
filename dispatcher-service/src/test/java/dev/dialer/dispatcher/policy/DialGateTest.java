package dev.dialer.dispatcher.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.AccountSettings.CallingWindow;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.RequestState;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.outcome.Verdict;
import dev.dialer.dispatcher.retry.RetryDecision;
import dev.dialer.dispatcher.retry.RetryPolicy;
import dev.dialer.dispatcher.retry.RetryProperties;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.transaction.ReactiveTransaction;
import org.springframework.transaction.ReactiveTransactionManager;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

class DialGateTest {

    private static final Instant NOW = Instant.parse("2026-03-02T10:00:00Z");

    @Test
    void calleeBelowItsCapIsNotHeld() {
        List<Instant> dials = List.of(NOW.minus(Duration.ofHours(3)), NOW.minus(Duration.ofHours(1)));

        assertThat(DialGate.capFreesAt(dials, 3, NOW)).isNull();
    }

    @Test
    void calleeAtItsCapFreesADayAfterTheOldestCountedDial() {
        Instant oldest = NOW.minus(Duration.ofHours(20));
        List<Instant> dials = List.of(oldest, NOW.minus(Duration.ofHours(2)));

        assertThat(DialGate.capFreesAt(dials, 2, NOW)).isEqualTo(oldest.plus(Duration.ofHours(24)));
    }

    @Test
    void calleeAboveItsCapWaitsUntilEnoughDialsAgeOut() {
        // Cap lowered after three dials: two must age out before one more call fits.
        Instant first = NOW.minus(Duration.ofHours(23));
        Instant second = NOW.minus(Duration.ofHours(10));
        List<Instant> dials = List.of(first, second, NOW.minus(Duration.ofHours(1)));

        assertThat(DialGate.capFreesAt(dials, 2, NOW)).isEqualTo(second.plus(Duration.ofHours(24)));
    }

    @Test
    void capOfZeroHoldsEveryCallAndLooksAgainInADay() {
        assertThat(DialGate.capFreesAt(List.of(), 0, NOW)).isEqualTo(NOW.plus(Duration.ofHours(24)));
    }

    @Test
    void aRetryDueAfterTheWindowClosedExpiresWhenValidUntilComesBeforeItOpensAgain() {
        // New York, 09:00-21:00; valid_until 21:30 EST. A retry due 21:05 could only wait for 09:00 the next day.
        PolicyViews views = mock(PolicyViews.class);
        when(views.settingsOf("acc-1")).thenReturn(new AccountSettings(1, "acc-1", "US",
                new CallingWindow(LocalTime.of(9, 0), LocalTime.of(21, 0)), List.of(), null, List.of(), null, null));
        DialGate gate = new DialGate(views, mock(PolicyLedger.class), mock(AttemptLedger.class),
                mock(CallEvents.class), null, new PolicyMetrics(new SimpleMeterRegistry()), Clock.systemUTC(),
                mock(ReactiveTransactionManager.class));
        CallCommand command = new CallCommand(1, "req-1", "acc-1", "+12125550100", "+12125551234", null, "a.wav", "c",
                15, 3, 1, null, null, null, Instant.parse("2026-03-03T02:30:00Z"), null, null, null, null, NOW);

        assertThat(gate.expiresBy(command, Instant.parse("2026-03-03T02:05:00Z"))).isTrue();
        assertThat(gate.expiresBy(command, Instant.parse("2026-03-03T01:55:00Z"))).as("20:55, in the window").isFalse();

        // The retry ladder asks it: attempt 1 ended busy at 20:50 with an interval of 15 minutes.
        RetryPolicy retries = new RetryPolicy(new RetryProperties(Duration.ofMinutes(1), Duration.ofSeconds(1),
                Duration.ofSeconds(30), null, 100, Duration.ofSeconds(15), Duration.ofMinutes(30),
                Duration.ofMinutes(5)), gate);
        assertThat(retries.decide(command, 1, Verdict.RETRYABLE, Instant.parse("2026-03-03T01:50:00Z")))
                .isEqualTo(RetryDecision.expiresFirst());
        assertThat(retries.decide(command, 1, Verdict.RETRYABLE, Instant.parse("2026-03-03T01:30:00Z")).dueAt())
                .as("due 20:45, in the window").isEqualTo(Instant.parse("2026-03-03T01:45:00Z"));

        // Its campaign paused meanwhile: a pause only puts the call later, so the same retry is no more announced.
        when(views.campaignControl("acc-1", "c")).thenReturn(new CallControl(1, "pause-c", CallControl.Action.PAUSE,
                CallControl.Scope.CAMPAIGN, "acc-1", null, "c", NOW));
        assertThat(gate.expiresBy(command, Instant.parse("2026-03-03T02:05:00Z"))).isTrue();
        assertThat(gate.expiresBy(command, Instant.parse("2026-03-03T01:55:00Z"))).isFalse();
        assertThat(retries.decide(command, 1, Verdict.RETRYABLE, Instant.parse("2026-03-03T01:50:00Z")))
                .isEqualTo(RetryDecision.expiresFirst());
    }

    @Test
    void aRetryTheCalleesCapWouldHoldPastValidUntilIsNotAnnouncedAndTheRequestExpires() {
        // Cap 1 a day, open all day. Attempt 1 was dialled at 10:00 and ended busy at 10:00:30; the retry is due 5
        // minutes later, and the cap frees only at 10:00 the next day.
        PolicyViews views = mock(PolicyViews.class);
        when(views.settingsOf("acc-1")).thenReturn(new AccountSettings(1, "acc-1", "US",
                new CallingWindow(LocalTime.MIDNIGHT, LocalTime.MIDNIGHT), List.of(), null, List.of(), 1, null));
        PolicyLedger ledger = mock(PolicyLedger.class);
        when(ledger.dialsSince(eq("acc-1"), eq("+12125551234"), any())).thenReturn(Flux.just(NOW));
        DialGate gate = new DialGate(views, ledger, mock(AttemptLedger.class), mock(CallEvents.class), null,
                new PolicyMetrics(new SimpleMeterRegistry()), Clock.systemUTC(),
                mock(ReactiveTransactionManager.class));
        RetryPolicy retries = new RetryPolicy(new RetryProperties(Duration.ofMinutes(1), Duration.ofSeconds(1),
                Duration.ofSeconds(30), null, 100, Duration.ofSeconds(15), Duration.ofMinutes(30),
                Duration.ofMinutes(5)), gate);
        Instant endedAt = NOW.plusSeconds(30);

        assertThat(retries.decideCounted(command(NOW.plus(Duration.ofHours(2))), 1, Verdict.RETRYABLE, endedAt)
                .block()).isEqualTo(RetryDecision.heldByCapPastValidUntil());
        // Valid past the cap's end: announced at its interval's due time, and held by the cap when it comes due.
        assertThat(retries.decideCounted(command(NOW.plus(Duration.ofHours(25))), 1, Verdict.RETRYABLE, endedAt)
                .block()).isEqualTo(new RetryDecision(2, endedAt.plus(Duration.ofMinutes(5))));
        // Without a valid_until the cap can hold it as long as it likes: nothing is counted.
        assertThat(retries.decideCounted(command(null), 1, Verdict.RETRYABLE, endedAt).block())
                .isEqualTo(new RetryDecision(2, endedAt.plus(Duration.ofMinutes(5))));
        verify(ledger, times(2))
                .dialsSince("acc-1", "+12125551234", endedAt.plus(Duration.ofMinutes(5)).minus(Duration.ofHours(24)));
    }

    @Test
    void aCancelReadSinceTheDecisionHoldsTheClaimAndEndsTheRequestCanceled() {
        // The cancel is in the view; the claim's own check, the ledger's mark, is still to be written.
        PolicyViews views = cancelledInView();
        AttemptLedger attempts = mock(AttemptLedger.class);
        when(attempts.claimDial(eq("req-1"), eq(1), any())).thenReturn(Mono.just(1));
        when(attempts.holdUnclaimed("req-1", 1)).thenReturn(Mono.just(true));
        CallEvents events = mock(CallEvents.class);
        when(events.finish(any(), any(), any(), any())).thenReturn(Mono.just(true));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DialGate gate = new DialGate(views, mock(PolicyLedger.class), attempts, events, null,
                new PolicyMetrics(registry), Clock.systemUTC(), mock(ReactiveTransactionManager.class));
        CallCommand command = command(null);

        assertThat(gate.stillClear(command)).isFalse();
        assertThat(gate.claim(command).block(Duration.ofSeconds(5))).isInstanceOf(DialGate.Claim.Held.class);
        verify(attempts, never()).claimDial(any(), anyInt(), any());
        verify(events).finish(eq(command), eq(FinalStatus.CANCELED), any(), any());
        assertThat(registry.counter("dialer.dispatcher.policy.decisions", "verdict", "cancel", "reason", "canceled")
                .count()).isEqualTo(1);

        // Another copy's claim finds the request ended already: nothing is decided, nothing counted.
        when(events.finish(any(), any(), any(), any())).thenReturn(Mono.just(false));
        gate.claim(command).block(Duration.ofSeconds(5));
        assertThat(registry.counter("dialer.dispatcher.policy.decisions", "verdict", "cancel", "reason", "canceled")
                .count()).as("a cancel that changed nothing").isEqualTo(1);
    }

    @Test
    void aHoldWhoseCommitAnswerWasLostStillEndsTheRequest() {
        // The claim's hold committed, its answer was lost, and its retry found the attempt held already (by itself).
        PolicyViews views = cancelledInView();
        AttemptLedger attempts = mock(AttemptLedger.class);
        when(attempts.holdUnclaimed("req-1", 1)).thenReturn(Mono.just(false));
        CallEvents events = mock(CallEvents.class);
        when(events.finish(any(), any(), any(), any())).thenReturn(Mono.just(true));
        DialGate gate = new DialGate(views, mock(PolicyLedger.class), attempts, events, null,
                new PolicyMetrics(new SimpleMeterRegistry()), Clock.systemUTC(),
                mock(ReactiveTransactionManager.class));
        CallCommand command = command(null);

        when(attempts.recordRequest(command)).thenReturn(Mono.just(new RequestState(null, true, true, false)));
        assertThat(gate.claim(command).block(Duration.ofSeconds(5))).isInstanceOf(DialGate.Claim.Held.class);
        verify(events).finish(eq(command), eq(FinalStatus.CANCELED), any(), any());

        // Claimed by another copy instead: nothing waits, this copy ends nothing.
        when(attempts.recordRequest(command)).thenReturn(Mono.just(new RequestState(null, true, false, false)));
        assertThat(gate.claim(command).block(Duration.ofSeconds(5))).isNull();
        verify(events, times(1)).finish(any(), any(), any(), any());
    }

    @Test
    void aCapHoldWhoseCommitAnswerWasLostStillMakesTheCallWait() {
        // Cap 1, one dial counted: the claim's transaction held the attempt, its commit's answer was lost, and the
        // transaction run again found the attempt held already (by itself).
        PolicyViews views = mock(PolicyViews.class);
        when(views.settingsOf("acc-1")).thenReturn(new AccountSettings(1, "acc-1", "US",
                new CallingWindow(LocalTime.MIDNIGHT, LocalTime.MIDNIGHT), List.of(), null, List.of(), 1, null));
        PolicyLedger ledger = mock(PolicyLedger.class);
        when(ledger.lockCallee("acc-1", "+12125551234")).thenReturn(Mono.empty());
        Instant dialled = Instant.now().minus(Duration.ofHours(1));
        when(ledger.dialsSince(eq("acc-1"), eq("+12125551234"), any())).thenReturn(Flux.just(dialled));
        when(ledger.schedule(any(), any(), any())).thenReturn(Mono.just(PolicyLedger.Scheduled.WAITS));
        AttemptLedger attempts = mock(AttemptLedger.class);
        when(attempts.ownClaim(any(), anyInt(), any())).thenReturn(Mono.empty());
        when(attempts.holdUnclaimed("req-1", 1)).thenReturn(Mono.just(false));
        CallEvents events = mock(CallEvents.class);
        when(events.atomically(any())).thenAnswer(invocation -> invocation.getArgument(0));
        when(events.deferred(any(), any(), any(), any())).thenReturn(Mono.empty());
        ReactiveTransactionManager transactions = mock(ReactiveTransactionManager.class);
        when(transactions.getReactiveTransaction(any())).thenReturn(Mono.just(mock(ReactiveTransaction.class)));
        when(transactions.commit(any())).thenReturn(Mono.empty());
        DialGate gate = new DialGate(views, ledger, attempts, events, null,
                new PolicyMetrics(new SimpleMeterRegistry()), Clock.systemUTC(), transactions);
        CallCommand command = command(null);
        when(attempts.recordRequest(command)).thenReturn(Mono.just(new RequestState(null, true, true, false)));

        assertThat(gate.claim(command).block(Duration.ofSeconds(5))).isInstanceOf(DialGate.Claim.Held.class);
        verify(ledger).schedule(command, "cap", dialled.plus(Duration.ofHours(24)));
        verify(attempts, never()).claimDial(any(), anyInt(), any());
    }

    @Test
    void aClaimWhoseCommitAnswerWasLostFindsItsOwnClaimAndDialsIt() {
        // Cap 1: the claim's transaction claimed the attempt, its commit's answer was lost, and the transaction run
        // again finds the attempt claimed by its own token, where its count would find the cap reached by its own dial.
        PolicyViews views = mock(PolicyViews.class);
        when(views.settingsOf("acc-1")).thenReturn(new AccountSettings(1, "acc-1", "US",
                new CallingWindow(LocalTime.MIDNIGHT, LocalTime.MIDNIGHT), List.of(), null, List.of(), 1, null));
        PolicyLedger ledger = mock(PolicyLedger.class);
        when(ledger.lockCallee("acc-1", "+12125551234")).thenReturn(Mono.empty());
        AttemptLedger attempts = mock(AttemptLedger.class);
        when(attempts.ownClaim(eq("req-1"), eq(1), any())).thenReturn(Mono.just(1));
        ReactiveTransactionManager transactions = mock(ReactiveTransactionManager.class);
        when(transactions.getReactiveTransaction(any())).thenReturn(Mono.just(mock(ReactiveTransaction.class)));
        when(transactions.commit(any())).thenReturn(Mono.empty());
        DialGate gate = new DialGate(views, ledger, attempts, mock(CallEvents.class), null,
                new PolicyMetrics(new SimpleMeterRegistry()), Clock.systemUTC(), transactions);

        assertThat(gate.claim(command(null)).block(Duration.ofSeconds(5))).isEqualTo(new DialGate.Claim.Dial(1));
        verify(ledger, never()).dialsSince(any(), any(), any());
        verify(attempts, never()).claimDial(any(), anyInt(), any());

        // Without a cap: the claim finds nothing to claim, and its own claim to dial.
        when(views.settingsOf("acc-1")).thenReturn(new AccountSettings(1, "acc-1", "US",
                new CallingWindow(LocalTime.MIDNIGHT, LocalTime.MIDNIGHT), List.of(), null, List.of(), null, null));
        when(attempts.claimDial(eq("req-1"), eq(1), any())).thenReturn(Mono.empty());
        when(attempts.ownClaim(eq("req-1"), eq(1), any())).thenReturn(Mono.just(2));
        assertThat(gate.claim(command(null)).block(Duration.ofSeconds(5))).isEqualTo(new DialGate.Claim.Dial(2));
    }

    /** The views of an account open all day, where a cancel of req-1 has been read. */
    private static PolicyViews cancelledInView() {
        PolicyViews views = mock(PolicyViews.class);
        when(views.settingsOf("acc-1")).thenReturn(new AccountSettings(1, "acc-1", "US",
                new CallingWindow(LocalTime.MIDNIGHT, LocalTime.MIDNIGHT), List.of(), null, List.of(), null, null));
        when(views.requestControl("req-1")).thenReturn(new CallControl(1, "cancel-req-1", CallControl.Action.CANCEL,
                CallControl.Scope.REQUEST, "acc-1", "req-1", null, NOW));
        return views;
    }

    private static CallCommand command(Instant validUntil) {
        return new CallCommand(1, "req-1", "acc-1", "+12125550100", "+12125551234", null, "a.wav", "c", 5, 2, 1,
                null, null, null, validUntil, null, null, null, null, NOW);
    }

    @Test
    void scheduleReasonsFollowThePolicyReason() {
        assertThat(Reasons.rowReason(Reasons.CAP_EVENT)).isEqualTo("cap");
        assertThat(Reasons.rowReason(Reasons.WINDOW_EVENT)).isEqualTo("window");
    }
}
