package dev.dialer.common.hook;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HookUrlsTest {

    @ParameterizedTest
    @ValueSource(strings = {"http://[fe80::1%25eth0]/x", "https://[fe80::1%251]:8443/status"})
    void anIpv6LiteralScopedToAnInterfaceIsRefused(String url) {
        assertThat(HookUrls.problem(url)).contains("IPv6 zone");
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://crm.example.com:99999/h", "http://crm.example.com:0/h",
            "https://[2001:db8::1]:65536/"})
    void aPortNoConnectionCanReachIsRefused(String url) {
        assertThat(HookUrls.problem(url)).isEqualTo("must name a port from 1 to 65535");
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://crm.example.com:65535/", "https://[2001:db8::1]:1/status",
            "https://[2001:db8::1]/status", "http://crm.example.com/cb?id=1%2F2",
            "https://crm.example.com:8443/"})
    void anIpv6LiteralWithoutAZoneAndAPercentEncodedPathAreTaken(String url) {
        assertThat(HookUrls.problem(url)).isNull();
    }
}
