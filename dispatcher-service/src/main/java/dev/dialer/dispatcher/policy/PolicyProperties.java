package dev.dialer.dispatcher.policy;

import dev.dialer.common.contract.AccountSettings.CallingWindow;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.time.Duration;
import java.time.LocalTime;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The dial-time policy.
 *
 * @param defaultCallingWindow the recipient's local hours, {@code HH:mm-HH:mm}, for accounts whose settings name no
 *                             window ({@code 00:00-00:00} means all day). api-service's preview reads its own copy,
 *                             {@code dialer.api.preview.default-calling-window}: change both together
 * @param pauseRecheck         how often a call of a paused campaign is looked at again; a resume releases the
 *                             campaign's calls at once, this only bounds the wait if a resume was missed
 * @param hangUpWait           how long a cancel waits for a call being placed right now to get its carrier id, so it
 *                             can be hung up
 * @param controlConcurrency   controls (cancel, pause, resume) acted upon at the same time
 * @param controlClaimLease    how long a dispatcher's claim on a control lasts without being renewed: the claimant
 *                             renews it while it acts, so a claim lapses this long after its dispatcher stopped, and
 *                             a dispatcher that found the control claimed looks at it again after this long
 * @param releaseAgainAfter    how long after reading a campaign resume a dispatcher releases the campaign's paused
 *                             calls once more: its gate may have read the campaign as paused just before the resume
 *                             reached its view, and written its call as paused after the release; longer than a
 *                             gate's deferral takes
 * @param viewLook             how often each policy view (DNC list, account settings, call controls) is looked at to
 *                             tell how current it is ({@code dialer.dispatcher.policy.view.staleness}): a view known
 *                             current stays within about this much of its topic
 */
@Validated
@ConfigurationProperties("dialer.dispatcher.policy")
record PolicyProperties(
        @DefaultValue("09:00-21:00") @NotNull @Pattern(regexp = "\\d{2}:\\d{2}-\\d{2}:\\d{2}")
        String defaultCallingWindow,
        @DefaultValue("PT5M") @NotNull Duration pauseRecheck,
        @DefaultValue("PT10S") @NotNull Duration hangUpWait,
        @DefaultValue("16") int controlConcurrency,
        @DefaultValue("PT10M") @NotNull Duration cancelSweepInterval,
        @DefaultValue("PT1M") @NotNull Duration controlClaimLease,
        @DefaultValue("PT30S") @NotNull Duration releaseAgainAfter,
        @DefaultValue("PT10S") @NotNull Duration viewLook) {

    PolicyProperties {
        if (defaultCallingWindow != null && defaultCallingWindow.matches("\\d{2}:\\d{2}-\\d{2}:\\d{2}")) {
            window(defaultCallingWindow);
        }
        requirePositive("pause-recheck", pauseRecheck);
        requirePositive("hang-up-wait", hangUpWait);
        requirePositive("cancel-sweep-interval", cancelSweepInterval);
        requirePositive("control-claim-lease", controlClaimLease);
        requirePositive("release-again-after", releaseAgainAfter);
        requirePositive("view-look", viewLook);
        if (controlConcurrency < 1) {
            throw new IllegalArgumentException("dialer.dispatcher.policy.control-concurrency must be at least 1");
        }
    }

    /** {@link #defaultCallingWindow} parsed. */
    CallingWindow defaultWindow() {
        return window(defaultCallingWindow);
    }

    private static CallingWindow window(String text) {
        String[] parts = text.split("-");
        try {
            return new CallingWindow(LocalTime.parse(parts[0]), LocalTime.parse(parts[1]));
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("dialer.dispatcher.policy.default-calling-window is not HH:mm-HH:mm: "
                    + text, e);
        }
    }

    private static void requirePositive(String name, Duration value) {
        if (value != null && (value.isNegative() || value.isZero())) {
            throw new IllegalArgumentException("dialer.dispatcher.policy." + name + " must be positive, was " + value);
        }
    }
}
