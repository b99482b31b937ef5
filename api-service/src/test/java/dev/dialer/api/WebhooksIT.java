package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.account.ApiKeys;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CommandReader;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.Topics;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class WebhooksIT extends RunningApiService {

    private static final String WEBHOOKS = "/api/v2/webhooks";

    @Test
    void createsAWebhookShowsItsSecretOnceStoresItAndPublishesItsConfig() throws Exception {
        String url = "https://crm.example.com/hooks/" + UUID.randomUUID();
        HttpResponse<String> created = post(WEBHOOKS, JSON_TYPE, KEY,
                "{\"url\":\"" + url + "\",\"description\":\"crm\"}");

        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        JsonNode webhook = json(created);
        assertThat(webhook.propertyNames()).containsExactly("id", "url", "description", "secret", "enabled",
                "created_at");
        String id = webhook.get("id").asString();
        String secret = webhook.get("secret").asString();
        assertThat(UUID.fromString(id)).isNotNull();
        assertThat(secret).startsWith("whsec_");
        assertThat(webhook.get("enabled").asBoolean()).isTrue();
        assertThat(created.headers().firstValue("Location")).hasValue(WEBHOOKS + "/" + id);

        try (Connection db = database();
             PreparedStatement query = db.prepareStatement(
                     "SELECT account_id, url, description, secret, enabled FROM api.webhooks WHERE id = ?")) {
            query.setString(1, id);
            try (ResultSet row = query.executeQuery()) {
                assertThat(row.next()).isTrue();
                assertThat(row.getString("account_id")).isEqualTo(ACCOUNT);
                assertThat(row.getString("url")).isEqualTo(url);
                assertThat(row.getString("description")).isEqualTo("crm");
                assertThat(row.getString("secret")).isEqualTo(secret);
                assertThat(row.getBoolean("enabled")).isTrue();
            }
        }

        try (TopicProbe configs = probe(Topics.WEBHOOK_CONFIG)) {
            ConsumerRecord<String, byte[]> record = configs.readToEnd().stream()
                    .filter(candidate -> id.equals(candidate.key()))
                    .findFirst().orElseThrow(() -> new AssertionError("no config record for " + id));
            WebhookConfig config = Contract.read(record.value(), WebhookConfig.class);
            assertThat(config.id()).isEqualTo(id);
            assertThat(config.accountId()).isEqualTo(ACCOUNT);
            assertThat(config.url()).isEqualTo(url);
            assertThat(config.secret()).isEqualTo(secret);
            assertThat(config.enabled()).isTrue();
        }

        HttpResponse<String> read = get(WEBHOOKS + "/" + id, KEY);
        assertThat(read.statusCode()).isEqualTo(200);
        assertThat(json(read).has("secret")).isFalse();
        assertThat(read.body()).doesNotContain(secret);
        assertThat(json(read).get("url").asString()).isEqualTo(url);
        assertThat(json(read).get("created_at").asString()).isEqualTo(webhook.get("created_at").asString());
    }

    @Test
    void keepsOnlyTheHashOfTheBootstrapKey() throws Exception {
        List<String> cells = new ArrayList<>();
        String owner = null;
        try (Connection db = database();
             ResultSet rows = db.createStatement().executeQuery(
                     "SELECT key_hash, account_id, coalesce(label, ''), created_at::text FROM api.api_keys")) {
            while (rows.next()) {
                for (int column = 1; column <= 4; column++) {
                    cells.add(rows.getString(column));
                }
                if (rows.getString(1).equals(ApiKeys.hash(KEY))) {
                    owner = rows.getString(2);
                }
            }
        }
        assertThat(owner).isEqualTo(ACCOUNT);
        assertThat(cells).noneMatch(cell -> cell.contains(KEY) || cell.contains(KEY.substring(3)));
    }

    @Test
    void deletingAWebhookRemovesItAndPublishesItsTombstone() throws Exception {
        String id = json(post(WEBHOOKS, JSON_TYPE, KEY, "{\"url\":\"https://gone.example.com/h\"}"))
                .get("id").asString();

        HttpResponse<String> deleted = delete(WEBHOOKS + "/" + id, KEY);

        assertThat(deleted.statusCode()).isEqualTo(204);
        assertThat(get(WEBHOOKS + "/" + id, KEY).statusCode()).isEqualTo(404);
        assertThat(delete(WEBHOOKS + "/" + id, KEY).statusCode()).isEqualTo(404);
        try (TopicProbe probe = probe(dev.dialer.common.kafka.Topics.WEBHOOK_CONFIG)) {
            var records = probe.readToEnd().stream().filter(r -> id.equals(r.key())).toList();
            assertThat(records).hasSize(2);
            assertThat(records.get(1).value()).isNull();
        }
    }

    @Test
    void anotherAccountCannotDeleteAWebhook() throws Exception {
        String otherKey = ApiKeys.generate();
        createAccount("other-" + UUID.randomUUID(), otherKey);
        String foreign = json(post(WEBHOOKS, JSON_TYPE, otherKey, "{\"url\":\"https://other.example.com/d\"}"))
                .get("id").asString();

        assertThat(delete(WEBHOOKS + "/" + foreign, KEY).statusCode()).isEqualTo(404);
        assertThat(get(WEBHOOKS + "/" + foreign, otherKey).statusCode()).isEqualTo(200);
    }

    @Test
    void hidesAnotherAccountsWebhookAndRefusesItAsWebhookId() throws Exception {
        String otherKey = ApiKeys.generate();
        createAccount("other-" + UUID.randomUUID(), otherKey);
        String foreign = json(post(WEBHOOKS, JSON_TYPE, otherKey, "{\"url\":\"https://other.example.com/h\"}"))
                .get("id").asString();

        HttpResponse<String> read = get(WEBHOOKS + "/" + foreign, KEY);
        assertThat(read.statusCode()).isEqualTo(404);
        assertThat(read.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(json(read).get("type").asString()).isEqualTo("https://dialer.dev/problems/not-found");

        HttpResponse<String> send = post("/api/v2/outgoing/send", JSON_TYPE, KEY, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","webhook_id":"%s"}""".formatted(foreign));
        assertThat(send.statusCode()).isEqualTo(400);
        assertThat(json(send).get("errors").get(0).get("field").asString()).isEqualTo("webhook_id");
    }

    @Test
    void carriesTheAccountsOwnWebhookIdIntoTheCommand() throws Exception {
        String own = json(post(WEBHOOKS, JSON_TYPE, KEY, "{\"url\":\"https://own.example.com/h\"}"))
                .get("id").asString();

        HttpResponse<String> send = post("/api/v2/outgoing/send", FORM, KEY,
                "bridge=918068281234&to=919876543215&flow_id=1&webhook_id=" + own);

        assertThat(send.statusCode()).as(send.body()).isEqualTo(200);
        String requestId = json(send).get("data").get(0).get("id").asString();
        CommandReader reader = new CommandReader();
        try (TopicProbe commands = probe(Topics.CALL_COMMANDS)) {
            CallCommand command = commands.readToEnd().stream()
                    .map(record -> reader.read(record.value()))
                    .filter(candidate -> requestId.equals(candidate.requestId()))
                    .findFirst().orElseThrow();
            assertThat(command.webhookId()).isEqualTo(own);
        }
    }

    @Test
    void namesTheUrlWhenItIsNotAnAbsoluteHttpUrl() throws Exception {
        HttpResponse<String> response = post(WEBHOOKS, JSON_TYPE, KEY, "{\"url\":\"ftp://example.com/h\"}");

        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(json(response).get("errors").get(0).get("field").asString()).isEqualTo("url");
    }

    @Test
    void namesTheUrlWhenItIsPlainHttpToAHostNotAllowListed() throws Exception {
        // webhook-service would refuse every try of it (plain-http: allow-listed, and no host is by default).
        HttpResponse<String> response = post(WEBHOOKS, JSON_TYPE, KEY, "{\"url\":\"http://crm.example.com/h\"}");

        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        JsonNode error = json(response).get("errors").get(0);
        assertThat(error.get("field").asString()).isEqualTo("url");
        assertThat(error.get("message").asString()).contains("https://");
    }

    @Test
    void refusesACreateWithAFieldAWebhookDoesNotHaveInsteadOfIgnoringIt() throws Exception {
        String url = "https://crm.example.com/" + UUID.randomUUID();

        HttpResponse<String> response = post(WEBHOOKS, JSON_TYPE, KEY, """
                {"url":"%s","enabled":false}""".formatted(url));

        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        JsonNode error = json(response).get("errors").get(0);
        assertThat(error.get("field").asString()).isEqualTo("enabled");
        assertThat(error.get("message").asString()).isEqualTo("is not a field of a webhook");
        assertThat(json(get(WEBHOOKS, KEY)).get("data").findValuesAsString("url")).doesNotContain(url);
    }

    private static void createAccount(String id, String key) throws Exception {
        try (Connection db = database();
             PreparedStatement account = db.prepareStatement(
                     "INSERT INTO api.accounts (id, name) VALUES (?, ?)");
             PreparedStatement apiKey = db.prepareStatement(
                     "INSERT INTO api.api_keys (key_hash, account_id, label) VALUES (?, ?, 'test')")) {
            account.setString(1, id);
            account.setString(2, id);
            account.executeUpdate();
            apiKey.setString(1, ApiKeys.hash(key));
            apiKey.setString(2, id);
            apiKey.executeUpdate();
        }
    }
}
