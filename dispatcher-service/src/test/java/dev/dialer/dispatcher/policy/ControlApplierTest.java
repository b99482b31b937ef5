package dev.dialer.dispatcher.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.dialer.common.contract.CallControl;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * A control's work on a connection that hangs without failing: the statement is timed out and the control given
 * back, so its claim lapses and it is acted on again, rather than held for good while the claim is renewed elsewhere;
 * the dispatcher that gave it back looks at it again itself, backing off.
 */
class ControlApplierTest {

    private final PolicyLedger ledger = mock(PolicyLedger.class);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void aCampaignCancelWhoseReadOfItsOpenRequestsNeverAnswersIsGivenBack() {
        ControlApplier applier = claimedApplier();
        when(ledger.openRequestsOf("acc-1", "spring")).thenReturn(Flux.never());
        CallControl cancel = new CallControl(CallControl.VERSION, "ctl-2", CallControl.Action.CANCEL,
                CallControl.Scope.CAMPAIGN, "acc-1", null, "spring", Instant.parse("2026-01-01T00:00:00Z"));

        StepVerifier.withVirtualTime(() -> applier.apply(cancel))
                .thenAwait(ControlApplier.OPEN_REQUESTS_TIMEOUT.minusSeconds(1))
                .then(() -> verify(ledger, never()).releaseControl("ctl-2"))
                .thenAwait(Duration.ofSeconds(1))
                .expectComplete()
                .verify(Duration.ofSeconds(10));

        verify(ledger).releaseControl("ctl-2");
        verify(ledger, never()).settleControl(anyString(), anyString());
    }

    /**
     * A claim the database refuses for good (a grant missing): the control is looked at again later, and the applier
     * goes on with the next control rather than ending, which would stop the policy views' readers with it.
     */
    @Test
    void aClaimTheDatabaseRefusesIsLookedAtAgainAndTheNextControlIsStillActedOn() {
        ControlApplier applier = claimedApplier();
        when(ledger.claimControl(org.mockito.ArgumentMatchers.eq("ctl-refused"), any(), any())).thenReturn(
                Mono.error(new org.springframework.dao.PermissionDeniedDataAccessException("permission denied",
                        null)));
        when(ledger.markCancelRequested("req-5")).thenReturn(Mono.never());
        CallControl refused = new CallControl(CallControl.VERSION, "ctl-refused", CallControl.Action.CANCEL,
                CallControl.Scope.REQUEST, "acc-1", "req-4", null, Instant.parse("2026-01-01T00:00:00Z"));
        CallControl next = new CallControl(CallControl.VERSION, "ctl-next", CallControl.Action.CANCEL,
                CallControl.Scope.REQUEST, "acc-1", "req-5", null, Instant.parse("2026-01-01T00:00:01Z"));

        StepVerifier.withVirtualTime(() -> applier.apply(refused).then(applier.apply(next)))
                .thenAwait(ControlApplier.STATEMENT_TIMEOUT)
                .expectComplete()
                .verify(Duration.ofSeconds(10));

        verify(ledger).markCancelRequested("req-5");
        assertThat(registry.get("dialer.dispatcher.controls").tag("action", "cancel").tag("outcome", "failed")
                .counter().count()).as("the refused claim, and the next control's hung statement").isEqualTo(2.0);
    }

    private ControlApplier claimedApplier() {
        when(ledger.claimControl(anyString(), any(), any())).thenReturn(Mono.just(PolicyLedger.ControlClaim.CLAIMED));
        when(ledger.renewControl(anyString())).thenReturn(Mono.empty());
        when(ledger.releaseControl(anyString())).thenReturn(Mono.empty());
        PolicyProperties properties = new PolicyProperties("09:00-21:00", Duration.ofMinutes(5),
                Duration.ofSeconds(10), 16, Duration.ofMinutes(10), Duration.ofMinutes(1), Duration.ofSeconds(30),
                Duration.ofSeconds(10));
        return new ControlApplier(null, ledger, null, null, properties, new PolicyMetrics(registry),
                Clock.systemUTC(), null);
    }

    @Test
    void aCancelWhoseStatementNeverAnswersIsGivenBackOnceItsStatementTimesOut() {
        ControlApplier applier = claimedApplier();
        // The request's cancel mark goes out on a connection that never answers.
        when(ledger.markCancelRequested("req-1")).thenReturn(Mono.never());
        CallControl cancel = new CallControl(CallControl.VERSION, "ctl-1", CallControl.Action.CANCEL,
                CallControl.Scope.REQUEST, "acc-1", "req-1", null, Instant.parse("2026-01-01T00:00:00Z"));

        StepVerifier.withVirtualTime(() -> applier.apply(cancel))
                .thenAwait(ControlApplier.STATEMENT_TIMEOUT.minusSeconds(1))
                .then(() -> verify(ledger, never()).releaseControl("ctl-1"))
                .thenAwait(Duration.ofSeconds(1))
                .expectComplete()
                .verify(Duration.ofSeconds(10));

        verify(ledger).releaseControl("ctl-1");
        verify(ledger, never()).settleControl(anyString(), anyString());
        assertThat(registry.get("dialer.dispatcher.controls").tag("action", "cancel").tag("outcome", "failed")
                .counter().count()).isEqualTo(1.0);
    }

    @Test
    void aControlGivenBackIsLookedAtAgainByItsOwnDispatcherBackingOff() {
        ControlApplier applier = claimedApplier();
        when(ledger.markCancelRequested("req-3")).thenReturn(Mono.never());
        CallControl cancel = new CallControl(CallControl.VERSION, "ctl-3", CallControl.Action.CANCEL,
                CallControl.Scope.REQUEST, "acc-1", "req-3", null, Instant.parse("2026-01-01T00:00:00Z"));
        Duration timeout = ControlApplier.STATEMENT_TIMEOUT;
        VirtualTimeScheduler time = VirtualTimeScheduler.getOrSet();
        try {
            applier.apply(cancel).subscribe();
            time.advanceTimeBy(timeout);
            verify(ledger).releaseControl("ctl-3");
            // Given back: looked at again after a claim's lease (one minute here), not only at the next start.
            time.advanceTimeBy(Duration.ofMinutes(1).minusSeconds(1));
            verify(ledger, times(1)).claimControl(anyString(), any(), any());
            time.advanceTimeBy(Duration.ofSeconds(1));
            verify(ledger, times(2)).claimControl(anyString(), any(), any());
            // Failed again: the next look waits twice as long.
            time.advanceTimeBy(timeout.plus(Duration.ofMinutes(2)).minusSeconds(1));
            verify(ledger, times(2)).releaseControl("ctl-3");
            verify(ledger, times(2)).claimControl(anyString(), any(), any());
            time.advanceTimeBy(Duration.ofSeconds(1));
            verify(ledger, times(3)).claimControl(anyString(), any(), any());
        } finally {
            VirtualTimeScheduler.reset();
        }
    }

    @Test
    void theWaitBeforeAnotherLookDoublesUpToItsBound() {
        Duration lease = Duration.ofMinutes(1);
        assertThat(ControlApplier.lookAgainAfter(lease, 1)).isEqualTo(Duration.ofMinutes(1));
        assertThat(ControlApplier.lookAgainAfter(lease, 2)).isEqualTo(Duration.ofMinutes(2));
        assertThat(ControlApplier.lookAgainAfter(lease, 4)).isEqualTo(Duration.ofMinutes(8));
        assertThat(ControlApplier.lookAgainAfter(lease, 5)).isEqualTo(ControlApplier.MAX_LOOK_AGAIN);
        assertThat(ControlApplier.lookAgainAfter(lease, Integer.MAX_VALUE)).isEqualTo(ControlApplier.MAX_LOOK_AGAIN);
        assertThat(ControlApplier.lookAgainAfter(Duration.ofHours(1), 1)).isEqualTo(ControlApplier.MAX_LOOK_AGAIN);
    }
}
