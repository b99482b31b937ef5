package dev.dialer.common.policy;

import dev.dialer.common.contract.AccountSettings;
import java.time.Instant;
import java.util.List;

/**
 * What the dialer does with a call right now, decided from the account's settings and the facts the caller looked
 * up. The dispatcher asks it at dial time (and again whenever a wait ends); api-service's compliance preview asks the
 * same code, so the preview answers exactly what the dispatcher would do.
 *
 * <p>Order: a paused campaign's call waits for the resume (or expires, once its {@code valid_until} passed), before
 * anything else is looked at; a caller ID or a flow the account may not use and a number on the DNC list block the
 * request; a passed {@code valid_until} expires it; a reached per-callee cap and a closed calling window defer it, to
 * the first instant both allow — and if that instant is past {@code valid_until}, the request expires instead of
 * waiting.
 */
public final class DialPolicy {

    private DialPolicy() {
    }

    /**
     * The facts a decision needs.
     *
     * @param callerId          the caller ID, E.164
     * @param to                the callee: E.164, or a SIP URI or {@code user:<name>} ({@link
     *                          dev.dialer.common.contract.Destination}), which has no time zone of its own: its window
     *                          is applied in the account's default region, else the caller ID's country
     * @param campaign          the campaign, if any (it may have its own window)
     * @param validUntil        the request's TTL, if any
     * @param settings          the account's settings ({@link AccountSettings#defaults} when it wrote none)
     * @param onDncList         whether the callee, as written, is on the account's DNC list
     * @param calleeCapFreesAt  when the per-callee cap is reached: the first instant a call is allowed again; null
     *                          when the cap is not reached (or the account has none)
     * @param now               the decision's time
     * @param campaignPaused    whether the call's campaign is paused
     * @param flows             every application the call could run ({@code CallCommand#applications}); empty when
     *                          it plays its audio
     */
    public record Facts(String callerId, String to, String campaign, Instant validUntil, AccountSettings settings,
                        boolean onDncList, Instant calleeCapFreesAt, Instant now, boolean campaignPaused,
                        List<String> flows, List<String> assertedCallers) {

        /** The facts of a call whose SIP headers present no caller ({@code CarrierOptions#assertedCallers}). */
        public Facts(String callerId, String to, String campaign, Instant validUntil, AccountSettings settings,
                     boolean onDncList, Instant calleeCapFreesAt, Instant now, boolean campaignPaused,
                     List<String> flows) {
            this(callerId, to, campaign, validUntil, settings, onDncList, calleeCapFreesAt, now, campaignPaused, flows,
                    List.of());
        }

        /** The facts of a call that names no flow. */
        public Facts(String callerId, String to, String campaign, Instant validUntil, AccountSettings settings,
                     boolean onDncList, Instant calleeCapFreesAt, Instant now, boolean campaignPaused) {
            this(callerId, to, campaign, validUntil, settings, onDncList, calleeCapFreesAt, now, campaignPaused,
                    List.of());
        }

        /** The facts of a call whose campaign is not paused. */
        public Facts(String callerId, String to, String campaign, Instant validUntil, AccountSettings settings,
                     boolean onDncList, Instant calleeCapFreesAt, Instant now) {
            this(callerId, to, campaign, validUntil, settings, onDncList, calleeCapFreesAt, now, false);
        }
    }

    public static PolicyDecision decide(Facts facts) {
        if (facts.campaignPaused()) {
            return expiredAt(facts, facts.now()) ? PolicyDecision.expire()
                    : PolicyDecision.defer(PolicyDecision.PAUSED, null);
        }
        AccountSettings settings = facts.settings();
        if (!settings.allowsCallerId(facts.callerId()) || !settings.allowsAssertedCallers(facts.assertedCallers())) {
            return PolicyDecision.block(PolicyDecision.CALLER_ID_NOT_ALLOWED);
        }
        if (!settings.allowsFlows(facts.flows())) {
            return PolicyDecision.block(PolicyDecision.FLOW_NOT_ALLOWED);
        }
        if (facts.onDncList()) {
            return PolicyDecision.block(PolicyDecision.DNC);
        }
        if (expiredAt(facts, facts.now())) {
            return PolicyDecision.expire();
        }
        Instant earliest = facts.now();
        String reason = null;
        if (facts.calleeCapFreesAt() != null && facts.calleeCapFreesAt().isAfter(earliest)) {
            earliest = facts.calleeCapFreesAt();
            reason = PolicyDecision.CALLEE_CAP;
        }
        Instant opening = CallingWindows.nextOpening(
                CallingWindows.zonesFor(facts.to(), facts.callerId(), settings.defaultRegion()),
                settings.windowFor(facts.campaign()), earliest);
        if (opening.isAfter(earliest)) {
            reason = PolicyDecision.CALLING_WINDOW;
        }
        if (reason == null) {
            return PolicyDecision.dial();
        }
        return expiredAt(facts, opening) ? PolicyDecision.expire() : PolicyDecision.defer(reason, opening);
    }

    private static boolean expiredAt(Facts facts, Instant at) {
        return facts.validUntil() != null && !at.isBefore(facts.validUntil());
    }
}
