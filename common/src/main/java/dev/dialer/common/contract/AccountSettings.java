package dev.dialer.common.contract;

import dev.dialer.common.phone.PhoneNumbers;
import java.time.Instant;
import java.time.LocalTime;
import java.util.List;

/**
 * An account's dialling settings: the value of a compacted {@code dialer.account.config} record keyed by the account
 * id. Absent fields take the service defaults. Its JSON Schema is {@code schemas/account-settings.v1.json}.
 *
 * @param version            contract version, {@value #VERSION}
 * @param accountId          the account
 * @param defaultRegion      ISO 3166 region for numbers written without a country code (e.g. {@code IN})
 * @param callingWindow      local hours of the recipient in which calls may be placed (default 09:00–21:00)
 * @param campaignWindows    per-campaign windows that replace {@code callingWindow} for that campaign
 * @param cpsPerCallerId     calls per second allowed per caller ID (null: the dispatcher's default)
 * @param allowedCallerIds   E.164 caller IDs the account may use; empty means any
 * @param perCalleeDailyCap  most calls to one number in any 24 hours, across campaigns (null: no cap)
 * @param updatedAt          when this version was written
 * @param allowedFlowIds     the flows (Voice Gateway application sids) the account's calls may run; empty means any.
 *                           A call that names none plays its audio through the dialer's own application, which every
 *                           account may use
 */
public record AccountSettings(
        int version,
        String accountId,
        String defaultRegion,
        CallingWindow callingWindow,
        List<CampaignWindow> campaignWindows,
        Double cpsPerCallerId,
        List<String> allowedCallerIds,
        Integer perCalleeDailyCap,
        Instant updatedAt,
        List<String> allowedFlowIds) {

    public static final int VERSION = 1;

    public AccountSettings {
        campaignWindows = campaignWindows == null ? List.of() : List.copyOf(campaignWindows);
        allowedCallerIds = allowedCallerIds == null ? List.of() : List.copyOf(allowedCallerIds);
        allowedFlowIds = allowedFlowIds == null ? List.of() : List.copyOf(allowedFlowIds);
    }

    /** Settings that restrict no flow. */
    public AccountSettings(int version, String accountId, String defaultRegion, CallingWindow callingWindow,
                           List<CampaignWindow> campaignWindows, Double cpsPerCallerId, List<String> allowedCallerIds,
                           Integer perCalleeDailyCap, Instant updatedAt) {
        this(version, accountId, defaultRegion, callingWindow, campaignWindows, cpsPerCallerId, allowedCallerIds,
                perCalleeDailyCap, updatedAt, List.of());
    }

    /** The settings an account has before it wrote any. */
    public static AccountSettings defaults(String accountId) {
        return new AccountSettings(VERSION, accountId, null, null, List.of(), null, List.of(), null, null);
    }

    /** Whether the account may call from {@code callerId} (E.164). */
    public boolean allowsCallerId(String callerId) {
        return allowedCallerIds.isEmpty() || allowedCallerIds.contains(callerId);
    }

    /**
     * Whether the account may present each of these numbers as its caller in a SIP header
     * ({@link CarrierOptions#assertedCallers}): always without allowed caller IDs; with them, each must read (in the
     * account's default region) as one of them.
     */
    public boolean allowsAssertedCallers(List<String> numbers) {
        if (allowedCallerIds.isEmpty()) {
            return true;
        }
        for (String number : numbers) {
            PhoneNumbers.Result read = PhoneNumbers.normalize(number, defaultRegion);
            if (!read.valid() || !allowedCallerIds.contains(read.e164())) {
                return false;
            }
        }
        return true;
    }

    /** These settings with {@code window} as the account's calling window. */
    public AccountSettings withCallingWindow(CallingWindow window) {
        return new AccountSettings(version, accountId, defaultRegion, window, campaignWindows, cpsPerCallerId,
                allowedCallerIds, perCalleeDailyCap, updatedAt, allowedFlowIds);
    }

    /** Whether the account's calls may run flow {@code flowId}; a call that names no flow (null) always may. */
    public boolean allowsFlow(String flowId) {
        return flowId == null || allowsFlows(List.of(flowId));
    }

    /**
     * Whether the account's calls may run every one of these applications ({@link CallCommand#applications()}); a
     * call that names none always may.
     */
    public boolean allowsFlows(List<String> flows) {
        return allowedFlowIds.isEmpty() || allowedFlowIds.containsAll(flows);
    }

    /** The window for a campaign: its own if set, else the account's, else {@link CallingWindow#DEFAULT}. */
    public CallingWindow windowFor(String campaign) {
        if (campaign != null) {
            for (CampaignWindow window : campaignWindows) {
                if (window.campaign().equals(campaign)) {
                    return window.window();
                }
            }
        }
        return callingWindow == null ? CallingWindow.DEFAULT : callingWindow;
    }

    /**
     * Local hours [start, end) in which a recipient may be called. {@code end} before {@code start} spans midnight;
     * equal times mean all day.
     */
    public record CallingWindow(LocalTime start, LocalTime end) {

        public static final CallingWindow DEFAULT = new CallingWindow(LocalTime.of(9, 0), LocalTime.of(21, 0));
        public static final CallingWindow ALWAYS = new CallingWindow(LocalTime.MIDNIGHT, LocalTime.MIDNIGHT);

        public CallingWindow {
            if (start == null || end == null) {
                throw new IllegalArgumentException("a calling window needs start and end");
            }
        }

        /** Whether {@code time} falls inside the window. */
        public boolean contains(LocalTime time) {
            if (start.equals(end)) {
                return true;
            }
            return start.isBefore(end)
                    ? !time.isBefore(start) && time.isBefore(end)
                    : !time.isBefore(start) || time.isBefore(end);
        }
    }

    /** A campaign's own calling window. */
    public record CampaignWindow(String campaign, CallingWindow window) {
    }
}
