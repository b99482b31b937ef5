package dev.dialer.dispatcher.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.CallControl.Action;
import dev.dialer.common.contract.CallControl.Scope;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CallControlsTest {

    private static final Instant ACCEPTED = Instant.parse("2026-03-02T10:00:00Z");
    private static final CallCommand COMMAND = new CallCommand(1, "req-1", "acct", "+4930111222", "+4915112345678",
            null, "a.wav", "spring", 0, 0, 1, null, null, Map.of(), null, null, null, null, Map.of(), ACCEPTED);

    @Test
    void requestCancelCancels() {
        assertThat(CallControls.cancelled(COMMAND, control(Scope.REQUEST, Action.CANCEL, ACCEPTED.plusSeconds(5)),
                null)).isTrue();
    }

    @Test
    void campaignCancelCoversRequestsAcceptedBeforeIt() {
        assertThat(CallControls.cancelled(COMMAND, null,
                control(Scope.CAMPAIGN, Action.CANCEL, ACCEPTED.plusSeconds(1)))).isTrue();
    }

    @Test
    void campaignCancelLeavesRequestsAcceptedAfterIt() {
        assertThat(CallControls.cancelled(COMMAND, null,
                control(Scope.CAMPAIGN, Action.CANCEL, ACCEPTED.minusSeconds(1)))).isFalse();
    }

    @Test
    void latestCampaignControlDecidesPause() {
        assertThat(CallControls.paused(control(Scope.CAMPAIGN, Action.PAUSE, ACCEPTED))).isTrue();
        assertThat(CallControls.paused(control(Scope.CAMPAIGN, Action.RESUME, ACCEPTED))).isFalse();
        assertThat(CallControls.paused(null)).isFalse();
        assertThat(CallControls.cancelled(COMMAND, null, control(Scope.CAMPAIGN, Action.PAUSE, ACCEPTED))).isFalse();
    }

    private static CallControl control(Scope scope, Action action, Instant issuedAt) {
        return new CallControl(1, "c-" + action + issuedAt, action, scope, "acct",
                scope == Scope.REQUEST ? "req-1" : null, scope == Scope.CAMPAIGN ? "spring" : null, issuedAt);
    }
}
