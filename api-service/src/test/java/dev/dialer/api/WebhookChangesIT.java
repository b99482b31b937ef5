package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.Topics;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class WebhookChangesIT extends RunningApiService {

    private static final String WEBHOOKS = "/api/v2/webhooks";

    @Test
    void patchChangesUrlAndDescriptionAndPublishesTheNewConfigWithTheSameSecret() throws Exception {
        JsonNode created = createWebhook(KEY, "https://crm.example.com/a");
        String id = created.get("id").asString();

        HttpResponse<String> patched = patch(WEBHOOKS + "/" + id, KEY,
                "{\"url\":\"https://crm.example.com/b\",\"description\":\"moved\"}");

        assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
        assertThat(json(patched).get("url").asString()).isEqualTo("https://crm.example.com/b");
        assertThat(json(patched).get("description").asString()).isEqualTo("moved");
        assertThat(json(patched).has("secret")).isFalse();
        WebhookConfig config = latestConfig(id);
        assertThat(config.url()).isEqualTo("https://crm.example.com/b");
        assertThat(config.description()).isEqualTo("moved");
        assertThat(config.secret()).isEqualTo(created.get("secret").asString());
        assertThat(config.enabled()).isTrue();
        assertThat(json(get(WEBHOOKS + "/" + id, KEY)).get("url").asString()).isEqualTo("https://crm.example.com/b");
    }

    @Test
    void disablingByPatchRecordsTheCustomerAsReasonAndEnablingClearsIt() throws Exception {
        String id = createWebhook(KEY, "https://crm.example.com/toggle").get("id").asString();

        HttpResponse<String> disabled = patch(WEBHOOKS + "/" + id, KEY, "{\"enabled\":false}");
        assertThat(json(disabled).get("enabled").asBoolean()).isFalse();
        assertThat(json(disabled).get("disabled_reason").asString()).isEqualTo("customer");
        assertThat(latestConfig(id).enabled()).isFalse();
        assertThat(latestConfig(id).disabledReason()).isEqualTo("customer");

        HttpResponse<String> enabled = patch(WEBHOOKS + "/" + id, KEY, "{\"enabled\":true}");
        assertThat(json(enabled).get("enabled").asBoolean()).isTrue();
        assertThat(json(enabled).get("disabled_reason").isNull()).isTrue();
        assertThat(latestConfig(id).enabled()).isTrue();
        assertThat(latestConfig(id).disabledReason()).isNull();
    }

    @Test
    void patchNamesEachBadFieldAndChangesNothing() throws Exception {
        String id = createWebhook(KEY, "https://crm.example.com/strict").get("id").asString();

        HttpResponse<String> refused = patch(WEBHOOKS + "/" + id, KEY,
                "{\"url\":\"ftp://example.com\",\"enabled\":\"yes\",\"colour\":\"red\"}");

        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(json(refused).get("errors").findValuesAsString("field"))
                .containsExactlyInAnyOrder("colour", "url", "enabled");
        assertThat(json(get(WEBHOOKS + "/" + id, KEY)).get("url").asString())
                .isEqualTo("https://crm.example.com/strict");
        assertThat(patch(WEBHOOKS + "/" + id, KEY, "{}").statusCode()).isEqualTo(400);
    }

    @Test
    void rotationShowsTheNewSecretOnceAndKeepsThePreviousForTheOverlap() throws Exception {
        JsonNode created = createWebhook(KEY, "https://crm.example.com/rotate");
        String id = created.get("id").asString();
        String oldSecret = created.get("secret").asString();
        Instant before = Instant.now();

        HttpResponse<String> rotated = post(WEBHOOKS + "/" + id + "/rotate-secret", JSON_TYPE, KEY, "");

        assertThat(rotated.statusCode()).as(rotated.body()).isEqualTo(200);
        String newSecret = json(rotated).get("secret").asString();
        assertThat(newSecret).startsWith("whsec_").isNotEqualTo(oldSecret);
        Instant expires = Instant.parse(json(rotated).get("previous_secret_expires_at").asString());
        assertThat(expires).isBetween(before.plus(Duration.ofHours(24)).minusSeconds(5),
                Instant.now().plus(Duration.ofHours(24)).plusSeconds(5));
        WebhookConfig config = latestConfig(id);
        assertThat(config.secret()).isEqualTo(newSecret);
        assertThat(config.previousSecret()).isEqualTo(oldSecret);
        assertThat(config.previousSecretExpiresAt()).isEqualTo(expires);
        HttpResponse<String> read = get(WEBHOOKS + "/" + id, KEY);
        assertThat(read.body()).doesNotContain(newSecret).doesNotContain(oldSecret);
        assertThat(json(read).get("previous_secret_expires_at").asString()).isEqualTo(expires.toString());
    }

    @Test
    void listsOnlyTheAccountsOwnWebhooks() throws Exception {
        String otherKey = TestAccounts.another();
        String own = createWebhook(KEY, "https://crm.example.com/mine").get("id").asString();
        String foreign = createWebhook(otherKey, "https://other.example.com/theirs").get("id").asString();

        HttpResponse<String> list = get(WEBHOOKS, KEY);

        assertThat(list.statusCode()).isEqualTo(200);
        List<String> ids = json(list).get("data").findValuesAsString("id");
        assertThat(ids).contains(own).doesNotContain(foreign);
        assertThat(list.body()).doesNotContain("whsec_");
        assertThat(json(get(WEBHOOKS, otherKey)).get("data").findValuesAsString("id")).containsExactly(foreign);
    }

    @Test
    void anotherAccountCannotChangeOrRotateAWebhook() throws Exception {
        String otherKey = TestAccounts.another();
        String foreign = createWebhook(otherKey, "https://other.example.com/keep").get("id").asString();

        assertThat(patch(WEBHOOKS + "/" + foreign, KEY, "{\"enabled\":false}").statusCode()).isEqualTo(404);
        assertThat(post(WEBHOOKS + "/" + foreign + "/rotate-secret", JSON_TYPE, KEY, "").statusCode())
                .isEqualTo(404);
        WebhookConfig config = latestConfig(foreign);
        assertThat(config.enabled()).isTrue();
        assertThat(config.previousSecret()).isNull();
    }

    private JsonNode createWebhook(String key, String url) throws Exception {
        HttpResponse<String> created = post(WEBHOOKS, JSON_TYPE, key, "{\"url\":\"" + url + "\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return json(created);
    }

    static WebhookConfig latestConfig(String id) {
        try (TopicProbe configs = probe(Topics.WEBHOOK_CONFIG)) {
            List<ConsumerRecord<String, byte[]>> records = configs.readToEnd().stream()
                    .filter(record -> id.equals(record.key())).toList();
            assertThat(records).as("config records of " + id).isNotEmpty();
            return Contract.read(records.get(records.size() - 1).value(), WebhookConfig.class);
        }
    }

    static String unique() {
        return UUID.randomUUID().toString();
    }
}
