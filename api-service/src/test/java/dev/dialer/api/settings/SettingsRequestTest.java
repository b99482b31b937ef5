package dev.dialer.api.settings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.FieldProblem;
import dev.dialer.common.contract.AccountSettings;
import java.time.Instant;
import java.time.LocalTime;
import org.junit.jupiter.api.Test;

class SettingsRequestTest {

    private static final Instant NOW = Instant.parse("2026-11-28T12:00:00Z");

    @Test
    void readsEverySettingAndNormalisesCallerIdsInTheGivenRegion() {
        AccountSettings settings = SettingsRequest.parse("""
                {"default_region":"US","calling_window":{"start":"22:00","end":"02:00"},
                 "campaign_windows":[{"campaign":"a","start":"10:00","end":"11:00"}],
                 "cps_per_caller_id":0.5,"allowed_caller_ids":["2025550143","2025550143"],"per_callee_daily_cap":2}""",
                "acct", "IN", NOW);

        assertThat(settings.defaultRegion()).isEqualTo("US");
        assertThat(settings.windowFor(null).start()).isEqualTo(LocalTime.of(22, 0));
        assertThat(settings.windowFor("a").end()).isEqualTo(LocalTime.of(11, 0));
        assertThat(settings.cpsPerCallerId()).isEqualTo(0.5);
        assertThat(settings.allowedCallerIds()).containsExactly("+12025550143");
        assertThat(settings.perCalleeDailyCap()).isEqualTo(2);
        assertThat(settings.updatedAt()).isEqualTo(NOW);
    }

    @Test
    void readsTheAllowedFlowsEachOnceAndNamesEveryBadOne() {
        AccountSettings settings = SettingsRequest.parse("{\"allowed_flow_ids\":[\"23\",23,\" app-7 \"]}", "acct",
                "IN", NOW);

        assertThat(settings.allowedFlowIds()).containsExactly("23", "app-7");
        assertThat(settings.allowsFlow("app-7")).isTrue();
        assertThat(settings.allowsFlow("24")).isFalse();
        assertThat(settings.allowsFlow(null)).as("a call that plays its audio").isTrue();
        assertThatThrownBy(() -> SettingsRequest.parse("{\"allowed_flow_ids\":[\"\",true,\"" + "x".repeat(129)
                + "\",\"ok\"]}", "acct", "IN", NOW))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .extracting(FieldProblem::field).containsExactly("allowed_flow_ids[0]", "allowed_flow_ids[1]",
                                "allowed_flow_ids[2]"));
        assertThatThrownBy(() -> SettingsRequest.parse("{\"allowed_flow_ids\":\"23\"}", "acct", "IN", NOW))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .extracting(FieldProblem::field).containsExactly("allowed_flow_ids"));
    }

    @Test
    void aCapBeyondAnyNumberTheApiTakesIsNamedNotAFailure() {
        assertThatThrownBy(() -> SettingsRequest.parse("{\"per_callee_daily_cap\":99999999999999999999}", "acct",
                "IN", NOW))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .extracting(FieldProblem::field).containsExactly("per_callee_daily_cap"));
    }

    @Test
    void aMemberGivenTwiceIsA400NamingItRatherThanKeepingTheLast() {
        assertThatThrownBy(() -> SettingsRequest.parse("{\"per_callee_daily_cap\":5,\"per_callee_daily_cap\":1}",
                "acct", "IN", NOW))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .containsExactly(new FieldProblem("per_callee_daily_cap", "is given more than once")));
        assertThatThrownBy(() -> SettingsRequest.parse("""
                {"calling_window":{"start":"10:00","end":"20:00","start":"00:00"}}""", "acct", "IN", NOW))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .containsExactly(new FieldProblem("calling_window.start", "is given more than once")));
    }

    @Test
    void takesTheGetAnswerBackWithItsReadOnlyFieldsIgnored() {
        AccountSettings settings = SettingsRequest.parse("""
                {"account_id":"acct","default_region":"IN","calling_window":{"start":"10:00","end":"20:00"},
                 "campaign_windows":[],"cps_per_caller_id":null,"allowed_caller_ids":[],"per_callee_daily_cap":null,
                 "updated_at":"2026-11-01T00:00:00Z"}""", "acct", "IN", NOW);

        assertThat(settings.accountId()).isEqualTo("acct");
        assertThat(settings.windowFor(null).start()).isEqualTo(LocalTime.of(10, 0));
        assertThat(settings.updatedAt()).isEqualTo(NOW);
    }

    @Test
    void refusesAnotherAccountsId() {
        assertThatThrownBy(() -> SettingsRequest.parse("{\"account_id\":\"other\"}", "acct", "IN", NOW))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .extracting(FieldProblem::field).containsExactly("account_id"));
    }

    @Test
    void anEmptyObjectMeansEveryDefault() {
        AccountSettings settings = SettingsRequest.parse("{}", "acct", "IN", NOW);

        assertThat(settings.allowsCallerId("+918068281234")).isTrue();
        assertThat(settings.windowFor(null)).isEqualTo(AccountSettings.CallingWindow.DEFAULT);
        assertThat(settings.perCalleeDailyCap()).isNull();
    }

    @Test
    void namesEveryInvalidFieldIncludingUnknownOnes() {
        assertThatThrownBy(() -> SettingsRequest.parse("""
                {"default_region":"in","calling_window":{"start":"9","end":"10:00"},"cps_per_caller_id":-1,
                 "per_callee_daily_cap":1.5,"campaign_windows":[{"start":"10:00","end":"11:00"}],"colour":"red"}""",
                "acct", "IN", NOW))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .extracting(FieldProblem::field).containsExactlyInAnyOrder("colour", "default_region",
                                "calling_window.start", "cps_per_caller_id", "per_callee_daily_cap",
                                "campaign_windows[0].campaign"));
    }

    @Test
    void aWindowMemberTheDialerDoesNotReadIsNamedNotDropped() {
        assertThatThrownBy(() -> SettingsRequest.parse("""
                {"calling_window":{"start":"09:00","end":"21:00","tz":"Asia/Kolkata"},
                 "campaign_windows":[{"campaign":"spring","start":"10:00","end":"11:00","days":"mon"}]}""",
                "acct", "IN", NOW))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .extracting(FieldProblem::field)
                        .containsExactlyInAnyOrder("calling_window.tz", "campaign_windows[0].days"));
    }
}
