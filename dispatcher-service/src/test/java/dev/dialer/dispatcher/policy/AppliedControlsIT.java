package dev.dialer.dispatcher.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.policy.PolicyLedger.ControlClaim;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * One dispatcher acts on each control, and a control whose dispatcher stopped mid-way is not left half done for good:
 * its claim, neither settled nor renewed, lapses, and the control is claimed again.
 */
class AppliedControlsIT extends DispatcherOnDatabase {

    private static final Duration LEASE = Duration.ofMinutes(1);

    @Autowired
    PolicyLedger ledger;

    @Test
    void aControlIsClaimedOnceWhileItsClaimIsHeld() {
        String control = UUID.randomUUID().toString();

        assertThat(ledger.claimControl(control, LEASE).block(WAIT)).isEqualTo(ControlClaim.CLAIMED);
        assertThat(ledger.claimControl(control, LEASE).block(WAIT)).isEqualTo(ControlClaim.HELD);
    }

    @Test
    void aClaimNeverSettledIsTakenOverOnceItsLeaseIsOver() {
        String control = UUID.randomUUID().toString();
        assertThat(ledger.claimControl(control, LEASE).block(WAIT)).isEqualTo(ControlClaim.CLAIMED);
        claimedAgo(control, Duration.ofHours(1));

        assertThat(ledger.claimControl(control, LEASE).block(WAIT)).as("its dispatcher stopped mid-way")
                .isEqualTo(ControlClaim.CLAIMED);
        assertThat(ledger.claimControl(control, LEASE).block(WAIT)).as("the new claim is held")
                .isEqualTo(ControlClaim.HELD);
    }

    @Test
    void aSettledControlIsNeverClaimedAgainHoweverOld() {
        String control = UUID.randomUUID().toString();
        assertThat(ledger.claimControl(control, LEASE).block(WAIT)).isEqualTo(ControlClaim.CLAIMED);
        ledger.settleControl(control, "applied").block(WAIT);
        claimedAgo(control, Duration.ofDays(2));

        assertThat(ledger.claimControl(control, LEASE).block(WAIT)).isEqualTo(ControlClaim.SETTLED);
    }

    @Test
    void claimsMadeAtOnceGiveTheControlToOneAndTellTheOthersItIsHeldNotSettled() {
        for (int round = 0; round < 20; round++) {
            String control = UUID.randomUUID().toString();

            List<ControlClaim> claims = Flux.range(0, 8)
                    .flatMap(i -> ledger.claimControl(control, LEASE).subscribeOn(Schedulers.parallel()))
                    .collectList()
                    .block(WAIT);

            assertThat(claims).containsOnly(ControlClaim.CLAIMED, ControlClaim.HELD)
                    .filteredOn(ControlClaim.CLAIMED::equals).hasSize(1);
        }
    }

    @Test
    void aRenewedClaimIsNotTakenOver() {
        String control = UUID.randomUUID().toString();
        assertThat(ledger.claimControl(control, LEASE).block(WAIT)).isEqualTo(ControlClaim.CLAIMED);
        claimedAgo(control, Duration.ofHours(1));
        ledger.renewControl(control).block(WAIT);

        assertThat(ledger.claimControl(control, LEASE).block(WAIT)).isEqualTo(ControlClaim.HELD);
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
