package dev.dialer.dispatcher.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallControl;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.policy.PolicyLedger.ControlClaim;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * One dispatcher acts on each control, and a control whose dispatcher stopped mid-way is not left half done for good:
 * its claim, neither settled nor renewed, lapses, and the control is claimed again. A cancel that found no request is
 * acted on again by the next dispatcher that reads it.
 */
class AppliedControlsIT extends DispatcherOnDatabase {

    private static final Duration LEASE = Duration.ofMinutes(1);

    @Autowired
    PolicyLedger ledger;

    @Autowired
    ControlApplier applier;

    @Autowired
    AttemptLedger attempts;

    @Test
    void aControlIsClaimedOnceWhileItsClaimIsHeld() {
        String control = UUID.randomUUID().toString();

        assertThat(ledger.claimControl(control, null, LEASE).block(WAIT)).isEqualTo(ControlClaim.CLAIMED);
        assertThat(ledger.claimControl(control, null, LEASE).block(WAIT)).isEqualTo(ControlClaim.HELD);
    }

    @Test
    void aClaimNeverSettledIsTakenOverOnceItsLeaseIsOver() {
        String control = UUID.randomUUID().toString();
        assertThat(ledger.claimControl(control, null, LEASE).block(WAIT)).isEqualTo(ControlClaim.CLAIMED);
        claimedAgo(control, Duration.ofHours(1));

        assertThat(ledger.claimControl(control, null, LEASE).block(WAIT)).as("its dispatcher stopped mid-way")
                .isEqualTo(ControlClaim.CLAIMED);
        assertThat(ledger.claimControl(control, null, LEASE).block(WAIT)).as("the new claim is held")
                .isEqualTo(ControlClaim.HELD);
    }

    @Test
    void aSettledControlIsNeverClaimedAgainHoweverOld() {
        String control = UUID.randomUUID().toString();
        assertThat(ledger.claimControl(control, null, LEASE).block(WAIT)).isEqualTo(ControlClaim.CLAIMED);
        ledger.settleControl(control, "applied").block(WAIT);
        claimedAgo(control, Duration.ofDays(2));

        assertThat(ledger.claimControl(control, null, LEASE).block(WAIT)).isEqualTo(ControlClaim.SETTLED);
    }

    @Test
    void claimsMadeAtOnceGiveTheControlToOneAndTellTheOthersItIsHeldNotSettled() {
        for (int round = 0; round < 20; round++) {
            assertClaimedByOneOfEight(UUID.randomUUID().toString());
        }
    }

    @Test
    void aRenewedClaimIsNotTakenOver() {
        String control = UUID.randomUUID().toString();
        assertThat(ledger.claimControl(control, null, LEASE).block(WAIT)).isEqualTo(ControlClaim.CLAIMED);
        claimedAgo(control, Duration.ofHours(1));
        ledger.renewControl(control).block(WAIT);

        assertThat(ledger.claimControl(control, null, LEASE).block(WAIT)).isEqualTo(ControlClaim.HELD);
    }

    @Test
    void aCancelThatFoundNoRequestIsActedOnAgainByTheNextDispatcherToReadItOnceTheRequestIsRecorded() {
        CallCommand command = new CallCommand(1, "pc-" + UUID.randomUUID(), "acc-pending", "+4930555003",
                "+4915112340199", null, "a.wav", null, 0, 3, 1, null, null, null, null, null, null, null, null,
                Instant.now());
        CallControl cancel = new CallControl(CallControl.VERSION, UUID.randomUUID().toString(),
                CallControl.Action.CANCEL, CallControl.Scope.REQUEST, command.accountId(), command.requestId(), null,
                Instant.now());

        applier.apply(cancel).block(WAIT);
        assertThat(outcome(cancel.controlId())).as("no request yet").isEqualTo(ControlApplier.PENDING);
        assertThat(namedRequest(cancel.controlId())).as("deleted with the request by the ledger's retention")
                .isEqualTo(command.requestId());

        // Recorded since by the caller ID's owner, whose view had not read the cancel yet.
        attempts.recordRequest(command).block(WAIT);
        applier.apply(cancel).block(WAIT);

        assertThat(finalStatus(command.requestId())).isEqualTo("canceled");
        assertThat(outcome(cancel.controlId())).isEqualTo(ControlApplier.APPLIED);
        assertThat(ledger.claimControl(cancel.controlId(), null, LEASE).block(WAIT)).as("read again at a later start")
                .isEqualTo(ControlClaim.SETTLED);
    }

    @Test
    void aPendingCancelIsClaimedAgainByOneOfTheDispatchersThatReadItAtOnce() {
        for (int round = 0; round < 10; round++) {
            String control = UUID.randomUUID().toString();
            assertThat(ledger.claimControl(control, null, LEASE).block(WAIT)).isEqualTo(ControlClaim.CLAIMED);
            ledger.settleControl(control, ControlApplier.PENDING).block(WAIT);

            assertClaimedByOneOfEight(control);
        }
    }

    @Test
    void aSettledCampaignCancelIsSweptAgainByTheNextDispatcherToReadItForRequestsRecordedSince() {
        String campaign = "sweep-" + UUID.randomUUID();
        Instant cancelled = Instant.now();
        CallCommand acceptedBefore = campaignCommand(campaign, cancelled.minusSeconds(60));
        CallCommand acceptedAfter = campaignCommand(campaign, cancelled.plusSeconds(60));
        CallControl cancel = new CallControl(CallControl.VERSION, UUID.randomUUID().toString(),
                CallControl.Action.CANCEL, CallControl.Scope.CAMPAIGN, "acc-sweep", null, campaign, cancelled);
        applier.apply(cancel).block(WAIT);
        assertThat(outcome(cancel.controlId())).as("nothing in the ledger yet").isEqualTo(ControlApplier.APPLIED);
        assertThat(namedRequest(cancel.controlId())).as("a campaign's control names no request").isEmpty();

        // Recorded since by the caller ID's owner, whose view had not read the cancel yet; and one accepted later.
        attempts.recordRequest(acceptedBefore).block(WAIT);
        attempts.recordRequest(acceptedAfter).block(WAIT);
        applier.apply(cancel).block(WAIT);

        assertThat(finalStatus(acceptedBefore.requestId())).isEqualTo("canceled");
        assertThat(finalStatus(acceptedAfter.requestId())).as("accepted after the cancel: a new run").isNull();
    }

    private static CallCommand campaignCommand(String campaign, Instant createdAt) {
        return new CallCommand(1, "sw-" + UUID.randomUUID(), "acc-sweep", "+4930555004", "+4915112340198", null,
                "a.wav", campaign, 0, 3, 1, null, null, null, null, null, null, null, null, createdAt);
    }

    private String finalStatus(String requestId) {
        return db.sql("SELECT final_status FROM dispatch.requests WHERE request_id = $1").bind(0, requestId)
                .map(row -> Optional.ofNullable(row.get(0, String.class))).one().block(WAIT).orElse(null);
    }

    /** Eight dispatchers claim the control at once: one has it, the others are told it is held, not settled. */
    private void assertClaimedByOneOfEight(String control) {
        List<ControlClaim> claims = Flux.range(0, 8)
                .flatMap(i -> ledger.claimControl(control, null, LEASE).subscribeOn(Schedulers.parallel()))
                .collectList()
                .block(WAIT);

        assertThat(claims).containsOnly(ControlClaim.CLAIMED, ControlClaim.HELD)
                .filteredOn(ControlClaim.CLAIMED::equals).hasSize(1);
    }

    private String outcome(String control) {
        return db.sql("SELECT outcome FROM dispatch.applied_controls WHERE control_id = $1").bind(0, control)
                .map(row -> row.get(0, String.class)).one().block(WAIT);
    }

    /** The request the control's row names, empty when it names none. */
    private String namedRequest(String control) {
        return db.sql("SELECT coalesce(request_id, '') FROM dispatch.applied_controls WHERE control_id = $1")
                .bind(0, control)
                .map(row -> row.get(0, String.class))
                .one()
                .block(WAIT);
    }

    private void claimedAgo(String control, Duration ago) {
        db.sql("UPDATE dispatch.applied_controls SET applied_at = now() - $2::bigint * interval '1 millisecond' "
                        + "WHERE control_id = $1")
                .bind(0, control)
                .bind(1, ago.toMillis())
                .then()
                .block(WAIT);
    }
}
