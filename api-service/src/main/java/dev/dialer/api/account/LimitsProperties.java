package dev.dialer.api.account;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * What one account may keep: every webhook and subscription is held in memory by each webhook-service instance, and
 * every event of the account is matched against all of its subscriptions; every DNC entry by each dispatcher.
 *
 * @param webhooksPerAccount      webhooks an account may have at once
 * @param subscriptionsPerAccount subscriptions an account may have at once
 * @param dncPerAccount           numbers an account's DNC list may hold: every dispatcher holds every account's list
 *                                in memory (about 300 MB a million), so one account's list must not take them all
 */
@Validated
@ConfigurationProperties("dialer.api.limits")
record LimitsProperties(
        @DefaultValue("100") @Min(1) @Max(10000) int webhooksPerAccount,
        @DefaultValue("100") @Min(1) @Max(10000) int subscriptionsPerAccount,
        @DefaultValue("1000000") @Min(1) @Max(100000000) int dncPerAccount) {
}
