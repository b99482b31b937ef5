package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** The per-account request rate: the limited account (0.1 request/s) gets a 429; others are unaffected. */
class RateLimitIT extends RunningApiService {

    @Test
    void answers429WithRetryAfterOnceTheAccountsRateIsUsedUp() throws Exception {
        String limitedKey = TestAccounts.ensure(LIMITED_ACCOUNT);

        HttpResponse<String> first = get("/api/v2/account/settings", limitedKey);
        HttpResponse<String> second = get("/api/v2/account/settings", limitedKey);
        HttpResponse<String> otherAccount = get("/api/v2/account/settings", KEY);

        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(second.statusCode()).isEqualTo(429);
        assertThat(second.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(second.headers().firstValue("Retry-After")).hasValueSatisfying(
                seconds -> assertThat(Integer.parseInt(seconds)).isBetween(1, 10));
        assertThat(json(second).get("type").asString()).isEqualTo("https://dialer.dev/problems/rate-limited");
        assertThat(otherAccount.statusCode()).isEqualTo(200);
        assertThat(scrape()).contains("dialer_api_rate_limited_total");
    }
}
