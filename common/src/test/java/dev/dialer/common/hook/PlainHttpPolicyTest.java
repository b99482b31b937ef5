package dev.dialer.common.hook;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class PlainHttpPolicyTest {

    private static final AllowList LOCAL = new AllowList(List.of("127.0.0.1", "localhost", "10.0.0.0/8", "::1"));

    @Test
    void byDefaultPlainHttpGoesNowhereAndHttpsAnywhere() {
        PlainHttpPolicy policy = PlainHttpPolicy.defaults();

        assertThat(policy.problem("http://crm.example.com/h")).contains("https://");
        assertThat(policy.problem("HTTP://127.0.0.1:8080/h")).contains("https://");
        assertThat(policy.problem("https://crm.example.com/h")).isNull();
    }

    @Test
    void allowListedPlainHttpGoesToTheHostsAndAddressesOnTheList() {
        PlainHttpPolicy policy = new PlainHttpPolicy(PlainHttpPolicy.Mode.ALLOW_LISTED, LOCAL);

        assertThat(policy.problem("http://127.0.0.1:8080/h")).isNull();
        assertThat(policy.problem("http://LOCALHOST:8080/h")).isNull();
        assertThat(policy.problem("http://10.1.2.3/h")).isNull();
        assertThat(policy.problem("http://[::1]:8080/h")).isNull();
        assertThat(policy.problem("http://127.0.0.2/h")).isNotNull();
        assertThat(policy.problem("http://crm.example.com/h")).isNotNull();
        // A name is taken only as written on the list, never by what it resolves to (as webhook-service does).
        assertThat(policy.allowsHttpTo("hooks.internal")).isFalse();
        assertThat(policy.allowsHttpTo("[fe80::1%25eth0]")).isFalse();
    }

    @Test
    void plainHttpCanBeAllowedOrRefusedEverywhere() {
        assertThat(new PlainHttpPolicy(PlainHttpPolicy.Mode.ALLOWED, new AllowList(List.of()))
                .problem("http://crm.example.com/h")).isNull();
        assertThat(new PlainHttpPolicy(PlainHttpPolicy.Mode.REFUSED, LOCAL).problem("http://localhost/h"))
                .contains("https://");
    }

    @Test
    void hookUrlsRefusesPlainHttpByThePolicyAfterItsOwnChecks() {
        assertThat(HookUrls.problem("http://crm.example.com/h", PlainHttpPolicy.defaults())).contains("https://");
        assertThat(HookUrls.problem("ftp://crm.example.com/h", PlainHttpPolicy.defaults())).contains("absolute");
        assertThat(HookUrls.problem("http://crm.example.com/h")).as("the syntax alone").isNull();
    }
}
