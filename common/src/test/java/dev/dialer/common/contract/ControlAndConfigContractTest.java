package dev.dialer.common.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.networknt.schema.InputFormat;
import com.networknt.schema.JsonSchema;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalTime;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The records api-service and webhook-service exchange with the other services, against their JSON Schemas. */
class ControlAndConfigContractTest {

    private static final Instant NOW = Instant.parse("2026-03-01T10:00:00Z");

    private static <T> T roundTrip(T record, String schemaPath, Class<T> type) {
        String json = Contract.toJson(record);
        JsonSchema schema = ContractSchema.load(schemaPath);
        assertThat(schema.validate(json, InputFormat.JSON)).as(json).isEmpty();
        return Contract.read(json.getBytes(StandardCharsets.UTF_8), type);
    }

    @Test
    void requestCancelIsKeyedByRequestAndMatchesItsSchema() {
        CallControl cancel = new CallControl(1, "ctl-1", CallControl.Action.CANCEL, CallControl.Scope.REQUEST,
                "acct-1", "req-1", null, NOW);

        assertThat(roundTrip(cancel, "schemas/call-control.v1.json", CallControl.class)).isEqualTo(cancel);
        assertThat(cancel.key()).isEqualTo("request:req-1");
        assertThat(Contract.toJson(cancel)).contains("\"action\":\"cancel\"", "\"scope\":\"request\"");
    }

    @Test
    void campaignPauseIsKeyedByAccountAndCampaign() {
        CallControl pause = new CallControl(1, "ctl-2", CallControl.Action.PAUSE, CallControl.Scope.CAMPAIGN,
                "acct-1", null, "spring-sale", NOW);

        assertThat(roundTrip(pause, "schemas/call-control.v1.json", CallControl.class)).isEqualTo(pause);
        assertThat(pause.key()).isEqualTo("campaign:acct-1:spring-sale");
    }

    @Test
    void aRequestCannotBePaused() {
        assertThatThrownBy(() -> new CallControl(1, "c", CallControl.Action.PAUSE, CallControl.Scope.REQUEST, "a",
                "r", null, NOW)).isInstanceOf(IllegalArgumentException.class);
        String json = """
                {"version":1,"control_id":"c","action":"pause","scope":"request","account_id":"a",
                 "request_id":"r","issued_at":"2026-03-01T10:00:00Z"}""";
        assertThat(ContractSchema.load("schemas/call-control.v1.json").validate(json, InputFormat.JSON)).isNotEmpty();
    }

    @Test
    void dncEntryMatchesItsSchema() {
        DncEntry entry = new DncEntry(1, "acct-1", "+919876543215", "asked not to be called", NOW);

        assertThat(roundTrip(entry, "schemas/dnc-entry.v1.json", DncEntry.class)).isEqualTo(entry);
        assertThat(entry.key()).isEqualTo("acct-1:+919876543215");
    }

    @Test
    void accountSettingsMatchTheirSchemaAndPickTheCampaignWindow() {
        AccountSettings.CallingWindow evenings = new AccountSettings.CallingWindow(LocalTime.of(17, 0),
                LocalTime.of(20, 30));
        AccountSettings settings = new AccountSettings(1, "acct-1", "IN",
                new AccountSettings.CallingWindow(LocalTime.of(10, 0), LocalTime.of(19, 0)),
                List.of(new AccountSettings.CampaignWindow("evening", evenings)), 5.0, List.of("+918068281234"), 3,
                NOW, List.of("23", "app-7"));

        assertThat(roundTrip(settings, "schemas/account-settings.v1.json", AccountSettings.class))
                .isEqualTo(settings);
        assertThat(Contract.toJson(settings)).contains("\"allowed_flow_ids\":[\"23\",\"app-7\"]");
        assertThat(settings.withCallingWindow(AccountSettings.CallingWindow.ALWAYS).allowedFlowIds())
                .as("a window given changes nothing else").containsExactly("23", "app-7");
        assertThat(settings.windowFor("evening")).isEqualTo(evenings);
        assertThat(settings.windowFor("other").start()).isEqualTo(LocalTime.of(10, 0));
        assertThat(AccountSettings.defaults("a").windowFor(null)).isEqualTo(AccountSettings.CallingWindow.DEFAULT);
        assertThat(settings.allowsCallerId("+918068281234")).isTrue();
        assertThat(settings.allowsCallerId("+918068289999")).isFalse();
        assertThat(AccountSettings.defaults("a").allowsCallerId("+918068289999")).isTrue();
    }

    @Test
    void windowsSpanningMidnightAndAllDay() {
        AccountSettings.CallingWindow night = new AccountSettings.CallingWindow(LocalTime.of(22, 0),
                LocalTime.of(2, 0));

        assertThat(night.contains(LocalTime.of(23, 0))).isTrue();
        assertThat(night.contains(LocalTime.of(1, 59))).isTrue();
        assertThat(night.contains(LocalTime.of(2, 0))).isFalse();
        assertThat(night.contains(LocalTime.NOON)).isFalse();
        assertThat(AccountSettings.CallingWindow.ALWAYS.contains(LocalTime.of(3, 0))).isTrue();
        assertThat(AccountSettings.CallingWindow.DEFAULT.contains(LocalTime.of(21, 0))).isFalse();
    }

    @Test
    void subscriptionSharesTheWebhookTopicUnderItsOwnKeys() {
        SubscriptionConfig subscription = new SubscriptionConfig(null, "sub-1", "acct-1", "wh-1",
                List.of("call.final", "webhook.disabled"), true, NOW);

        assertThat(roundTrip(subscription, "schemas/subscription-config.v1.json", SubscriptionConfig.class))
                .isEqualTo(subscription);
        assertThat(subscription.key()).isEqualTo("subscription:sub-1");
        assertThat(SubscriptionConfig.isSubscriptionKey(subscription.key())).isTrue();
        assertThat(SubscriptionConfig.isSubscriptionKey("wh-1")).isFalse();
    }

    @Test
    void webhookDuringRotationCarriesBothSecretsUntilTheOldOneExpires() {
        WebhookConfig rotating = new WebhookConfig("wh-1", "acct-1", "https://example.com/h", null, "whsec_new",
                true, NOW, "whsec_old", NOW.plusSeconds(3600), null);

        assertThat(roundTrip(rotating, "schemas/webhook-config.v1.json", WebhookConfig.class)).isEqualTo(rotating);
        assertThat(rotating.previousSecretAt(NOW)).isEqualTo("whsec_old");
        assertThat(rotating.previousSecretAt(NOW.plusSeconds(3600))).isNull();
    }

    @Test
    void webhookWrittenBeforeRotationExistedStillReads() {
        String old = """
                {"id":"wh-1","account_id":"a","url":"https://x/h","secret":"whsec_a","enabled":true}""";

        WebhookConfig read = Contract.read(old.getBytes(StandardCharsets.UTF_8), WebhookConfig.class);

        assertThat(read.secret()).isEqualTo("whsec_a");
        assertThat(read.previousSecret()).isNull();
    }

    @Test
    void deliveryAttemptMatchesItsSchema() {
        DeliveryAttempt attempt = new DeliveryAttempt(1, "att-1", "evt-1", "call.final", "wh-1", "webhook", "req-1",
                "acct-1", 2, DeliveryAttempt.Outcome.RETRYING, 503, null, "busy", 12, NOW.plusSeconds(5), null, null,
                NOW);

        assertThat(roundTrip(attempt, "schemas/delivery-attempt.v1.json", DeliveryAttempt.class)).isEqualTo(attempt);
        assertThat(Contract.toJson(attempt)).contains("\"outcome\":\"retrying\"");
    }

    @Test
    void replayNamesEventsOrARange() {
        ReplayRequest byIds = new ReplayRequest(1, "rp-1", "acct-1", "wh-1", List.of("evt-1"), null, null, NOW);
        ReplayRequest byRange = new ReplayRequest(1, "rp-2", "acct-1", "wh-1", null, NOW.minusSeconds(60), NOW, NOW);

        assertThat(roundTrip(byIds, "schemas/replay-request.v1.json", ReplayRequest.class)).isEqualTo(byIds);
        assertThat(roundTrip(byRange, "schemas/replay-request.v1.json", ReplayRequest.class)).isEqualTo(byRange);
        assertThatThrownBy(() -> new ReplayRequest(1, "rp-3", "a", "w", List.of(), null, null, NOW))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
