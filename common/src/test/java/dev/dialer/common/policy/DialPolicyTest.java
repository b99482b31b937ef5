package dev.dialer.common.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.AccountSettings.CallingWindow;
import dev.dialer.common.contract.CarrierOptions;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DialPolicyTest {

    private static final String CALLER = "+918068281234";
    private static final String INDIA = "+919876543215";
    /** 12:00 in India (UTC+05:30): inside the default 09:00–21:00 window. */
    private static final Instant INDIA_NOON = Instant.parse("2026-03-02T06:30:00Z");
    /** 22:30 in India: after the window. */
    private static final Instant INDIA_LATE = Instant.parse("2026-03-02T17:00:00Z");

    private static DialPolicy.Facts facts(AccountSettings settings, boolean dnc, Instant capFrees, Instant validUntil,
                                          Instant now) {
        return new DialPolicy.Facts(CALLER, INDIA, null, validUntil, settings, dnc, capFrees, now);
    }

    private static AccountSettings defaults() {
        return AccountSettings.defaults("acct");
    }

    @Test
    void dialsInsideTheWindowWhenNothingElseObjects() {
        PolicyDecision decision = DialPolicy.decide(facts(defaults(), false, null, null, INDIA_NOON));

        assertThat(decision.verdict()).isEqualTo(PolicyDecision.Verdict.DIAL);
    }

    @Test
    void aPausedCampaignsCallWaitsForTheResumeBeforeAnythingElseIsLookedAtAndExpiresOnTime() {
        DialPolicy.Facts onDncInTheNight = new DialPolicy.Facts(CALLER, INDIA, "spring", null, defaults(), true, null,
                INDIA_LATE, true);
        DialPolicy.Facts validUntilPassed = new DialPolicy.Facts(CALLER, INDIA, "spring", INDIA_NOON, defaults(),
                false, null, INDIA_NOON, true);

        assertThat(DialPolicy.decide(onDncInTheNight))
                .isEqualTo(new PolicyDecision(PolicyDecision.Verdict.DEFER, PolicyDecision.PAUSED, null));
        assertThat(DialPolicy.decide(validUntilPassed))
                .isEqualTo(new PolicyDecision(PolicyDecision.Verdict.EXPIRE, PolicyDecision.VALID_UNTIL, null));
    }

    @Test
    void blocksANumberOnTheDncList() {
        PolicyDecision decision = DialPolicy.decide(facts(defaults(), true, null, null, INDIA_NOON));

        assertThat(decision).isEqualTo(new PolicyDecision(PolicyDecision.Verdict.BLOCK, PolicyDecision.DNC, null));
    }

    @Test
    void blocksACallerIdTheAccountMayNotUse() {
        AccountSettings settings = new AccountSettings(1, "acct", null, null, null, null, List.of("+918068280000"),
                null, null);

        assertThat(DialPolicy.decide(facts(settings, false, null, null, INDIA_NOON)).reason())
                .isEqualTo(PolicyDecision.CALLER_ID_NOT_ALLOWED);
    }

    @Test
    void blocksACallWhoseSipHeadersPresentACallerTheAccountMayNotUse() {
        AccountSettings settings = new AccountSettings(1, "acct", "IN", null, null, null, List.of(CALLER), null, null);

        assertThat(DialPolicy.decide(callerFacts(settings, "+918068280000")).reason())
                .isEqualTo(PolicyDecision.CALLER_ID_NOT_ALLOWED);
        assertThat(DialPolicy.decide(callerFacts(settings, "+918068281234", "08068280000")).reason())
                .as("every one it presents, read in the account's region")
                .isEqualTo(PolicyDecision.CALLER_ID_NOT_ALLOWED);
        assertThat(DialPolicy.decide(callerFacts(settings, "918068281234", "080-6828-1234")).verdict())
                .as("its own number, however written").isEqualTo(PolicyDecision.Verdict.DIAL);
        assertThat(DialPolicy.decide(callerFacts(defaults(), "+918068280000")).verdict()).as("no list: any caller")
                .isEqualTo(PolicyDecision.Verdict.DIAL);
        // A header's user that is not a number but has digits a trunk might read as one is no allowed caller.
        for (String header : List.of("<sip:%2B918068280000@sbc.example.com>",
                "<sip:+918068280000:pw@sbc.example.com>", "<sip:918068281234x@sbc.example.com>")) {
            List<String> presented = CarrierOptions.assertedCallers(Map.of("headers",
                    Map.of("P-Asserted-Identity", header)));
            assertThat(DialPolicy.decide(callerFacts(settings, presented.toArray(String[]::new))).reason())
                    .as(header).isEqualTo(PolicyDecision.CALLER_ID_NOT_ALLOWED);
        }
    }

    private static DialPolicy.Facts callerFacts(AccountSettings settings, String... asserted) {
        return new DialPolicy.Facts(CALLER, INDIA, null, null, settings, false, null, INDIA_NOON, false, List.of(),
                List.of(asserted));
    }

    @Test
    void blocksAFlowTheAccountMayNotRunButNeverACallThatPlaysItsAudio() {
        AccountSettings settings = new AccountSettings(1, "acct", null, null, null, null, List.of(), null, null,
                List.of("23"));

        assertThat(DialPolicy.decide(flowFacts(settings, "24"))).isEqualTo(new PolicyDecision(
                PolicyDecision.Verdict.BLOCK, PolicyDecision.FLOW_NOT_ALLOWED, null));
        assertThat(DialPolicy.decide(flowFacts(settings, "23", "24")).reason()).as("every one it could run")
                .isEqualTo(PolicyDecision.FLOW_NOT_ALLOWED);
        assertThat(DialPolicy.decide(flowFacts(settings, "23")).verdict()).isEqualTo(PolicyDecision.Verdict.DIAL);
        assertThat(DialPolicy.decide(flowFacts(settings)).verdict()).as("audio")
                .isEqualTo(PolicyDecision.Verdict.DIAL);
        assertThat(DialPolicy.decide(flowFacts(defaults(), "24")).verdict()).as("no list: any flow")
                .isEqualTo(PolicyDecision.Verdict.DIAL);
    }

    private static DialPolicy.Facts flowFacts(AccountSettings settings, String... flows) {
        return new DialPolicy.Facts(CALLER, INDIA, null, null, settings, false, null, INDIA_NOON, false,
                List.of(flows));
    }

    @Test
    void expiresWhenValidUntilHasPassed() {
        PolicyDecision decision = DialPolicy.decide(facts(defaults(), false, null, INDIA_NOON.minusSeconds(1),
                INDIA_NOON));

        assertThat(decision.verdict()).isEqualTo(PolicyDecision.Verdict.EXPIRE);
    }

    @Test
    void defersALateCallToNineInTheRecipientsMorning() {
        PolicyDecision decision = DialPolicy.decide(facts(defaults(), false, null, null, INDIA_LATE));

        assertThat(decision.verdict()).isEqualTo(PolicyDecision.Verdict.DEFER);
        assertThat(decision.reason()).isEqualTo(PolicyDecision.CALLING_WINDOW);
        assertThat(decision.notBefore().atZone(ZoneId.of("Asia/Kolkata")).toLocalTime())
                .isEqualTo(LocalTime.of(9, 0));
        assertThat(decision.notBefore()).isAfter(INDIA_LATE);
    }

    @Test
    void expiresRatherThanWaitForAWindowPastValidUntil() {
        PolicyDecision decision = DialPolicy.decide(facts(defaults(), false, null, INDIA_LATE.plusSeconds(3600),
                INDIA_LATE));

        assertThat(decision.verdict()).isEqualTo(PolicyDecision.Verdict.EXPIRE);
    }

    @Test
    void defersUntilTheCalleeCapFreesAndTheWindowIsOpen() {
        Instant capFrees = INDIA_NOON.plusSeconds(3600);

        PolicyDecision decision = DialPolicy.decide(facts(defaults(), false, capFrees, null, INDIA_NOON));

        assertThat(decision).isEqualTo(new PolicyDecision(PolicyDecision.Verdict.DEFER, PolicyDecision.CALLEE_CAP,
                capFrees));
    }

    @Test
    void aCampaignWindowReplacesTheAccountWindow() {
        AccountSettings settings = new AccountSettings(1, "acct", null, null,
                List.of(new AccountSettings.CampaignWindow("night",
                        new CallingWindow(LocalTime.of(22, 0), LocalTime.of(23, 0)))), null, null, null, null);
        DialPolicy.Facts night = new DialPolicy.Facts(CALLER, INDIA, "night", null, settings, false, null,
                INDIA_LATE);

        assertThat(DialPolicy.decide(night).verdict()).isEqualTo(PolicyDecision.Verdict.DIAL);
    }

    private static final String SIP = "sip:alice@pbx.example.com";
    private static final String USER = "user:alice";
    /** 12:00 in Germany (UTC+01:00 in March): 16:30 in India, so inside a German and an Indian 09:00-21:00 day. */
    private static final Instant GERMAN_NOON = Instant.parse("2026-03-02T11:00:00Z");

    private static DialPolicy.Facts nonPhone(String to, AccountSettings settings, Instant now) {
        return new DialPolicy.Facts(CALLER, to, null, null, settings, false, null, now);
    }

    private static AccountSettings region(String region) {
        return new AccountSettings(1, "acct", region, null, null, null, null, null, null);
    }

    @Test
    void aSipDestinationIsTimedInTheAccountsDefaultRegionNotInUtc() {
        // 22:30 in India is 17:00 UTC: inside a UTC day, outside the account's region's window.
        PolicyDecision decision = DialPolicy.decide(nonPhone(SIP, region("IN"), INDIA_LATE));

        assertThat(decision.verdict()).isEqualTo(PolicyDecision.Verdict.DEFER);
        assertThat(decision.reason()).isEqualTo(PolicyDecision.CALLING_WINDOW);
        assertThat(decision.notBefore().atZone(ZoneId.of("Asia/Kolkata")).toLocalTime())
                .isEqualTo(LocalTime.of(9, 0));
    }

    @Test
    void aUserDestinationIsTimedInTheAccountsRegionRatherThanTheCallerIdsCountry() {
        // 17:00 UTC is 18:00 in Germany: open there, although it is 22:30 in the caller ID's India.
        assertThat(DialPolicy.decide(nonPhone(USER, region("DE"), INDIA_LATE)).verdict())
                .isEqualTo(PolicyDecision.Verdict.DIAL);
    }

    @Test
    void withoutADefaultRegionANonPhoneDestinationIsTimedInTheCallerIdsCountry() {
        assertThat(DialPolicy.decide(nonPhone(SIP, defaults(), INDIA_LATE)).verdict())
                .isEqualTo(PolicyDecision.Verdict.DEFER);
        assertThat(DialPolicy.decide(nonPhone(USER, defaults(), GERMAN_NOON)).verdict())
                .isEqualTo(PolicyDecision.Verdict.DIAL);
    }

    @Test
    void aCallerIdOfTheAccountsRegionTimesANonPhoneDestinationInItsOwnArea() {
        // 14:00 UTC: 09:00 in New York. The whole of +1 runs from Guam to Samoa, where no window is ever open
        // everywhere at once: the caller ID's area decides, not its country.
        Instant newYorkNine = Instant.parse("2026-03-02T14:00:00Z");
        String newYorkCaller = "+12124561234";

        assertThat(CallingWindows.zonesFor(SIP, newYorkCaller, "US")).containsExactly(ZoneId.of("America/New_York"));
        assertThat(CallingWindows.zonesFor(USER, newYorkCaller, null)).containsExactly(ZoneId.of("America/New_York"));
        assertThat(DialPolicy.decide(new DialPolicy.Facts(newYorkCaller, SIP, null, null, region("US"), false, null,
                newYorkNine)).verdict()).isEqualTo(PolicyDecision.Verdict.DIAL);
        assertThat(DialPolicy.decide(new DialPolicy.Facts(newYorkCaller, SIP, null, null, region("US"), false, null,
                newYorkNine.minusSeconds(60))).verdict()).isEqualTo(PolicyDecision.Verdict.DEFER);
    }

    @Test
    void aCallerIdOfAnotherCountryLeavesTheRegionsZonesWhichMustAllBeOpen() {
        // 08:30 UTC: 09:30 in Berlin; the Indian caller ID's own zone does not count for a German account.
        Instant berlinHalfPastNine = Instant.parse("2026-03-02T08:30:00Z");

        assertThat(CallingWindows.zonesFor(SIP, CALLER, "DE")).containsExactly(ZoneId.of("Europe/Berlin"));
        assertThat(DialPolicy.decide(nonPhone(SIP, region("DE"), berlinHalfPastNine)).verdict())
                .isEqualTo(PolicyDecision.Verdict.DIAL);
    }

    @Test
    void aNonPhoneDestinationOnTheDncListIsBlockedAndItsCapDefersIt() {
        Instant capFrees = GERMAN_NOON.plusSeconds(3600);

        assertThat(DialPolicy.decide(new DialPolicy.Facts(CALLER, SIP, null, null, region("DE"), true, null,
                GERMAN_NOON)).reason()).isEqualTo(PolicyDecision.DNC);
        assertThat(DialPolicy.decide(new DialPolicy.Facts(CALLER, USER, null, null, region("DE"), false, capFrees,
                GERMAN_NOON))).isEqualTo(new PolicyDecision(PolicyDecision.Verdict.DEFER, PolicyDecision.CALLEE_CAP,
                capFrees));
    }

    @Test
    void nothingThrowsOnAnUnreadableRegionOrCallerId() {
        assertThat(DialPolicy.decide(new DialPolicy.Facts("not-a-number", SIP, null, null, region("ZZ"), false, null,
                GERMAN_NOON)).verdict()).isEqualTo(PolicyDecision.Verdict.DIAL);
        assertThat(CallingWindows.zonesFor(USER, "not-a-number", null)).containsExactly(java.time.ZoneOffset.UTC);
    }
}
