package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.common.kafka.Topics;
import java.net.http.HttpResponse;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class SubscriptionsIT extends RunningApiService {

    private static final String SUBSCRIPTIONS = "/api/v2/subscriptions";

    @Test
    void createReadChangeAndDeleteEachPublishTheSubscription() throws Exception {
        String webhook = webhook(KEY);

        HttpResponse<String> created = post(SUBSCRIPTIONS, JSON_TYPE, KEY,
                "{\"webhook_id\":\"" + webhook + "\",\"event_types\":[\"call.final\",\"call.final\",\"call.status\"]}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = json(created).get("id").asString();
        assertThat(created.headers().firstValue("Location")).hasValue(SUBSCRIPTIONS + "/" + id);
        assertThat(json(created).get("event_types").valueStream().map(JsonNode::asString).toList())
                .containsExactly("call.final", "call.status");
        SubscriptionConfig published = Contract.read(latest(id).value(), SubscriptionConfig.class);
        assertThat(published.kind()).isEqualTo("subscription");
        assertThat(published.accountId()).isEqualTo(ACCOUNT);
        assertThat(published.webhookId()).isEqualTo(webhook);
        assertThat(published.eventTypes()).containsExactly("call.final", "call.status");
        assertThat(published.enabled()).isTrue();

        assertThat(json(get(SUBSCRIPTIONS + "/" + id, KEY)).get("webhook_id").asString()).isEqualTo(webhook);
        assertThat(json(get(SUBSCRIPTIONS + "?webhook_id=" + webhook, KEY)).get("data").findValuesAsString("id"))
                .containsExactly(id);
        HttpResponse<String> empty = get(SUBSCRIPTIONS + "?webhook_id=", KEY);
        assertThat(empty.statusCode()).as("given empty, the filter is refused, not read as none").isEqualTo(400);
        assertThat(json(empty).get("errors").findValuesAsString("field")).containsExactly("webhook_id");

        HttpResponse<String> changed = patch(SUBSCRIPTIONS + "/" + id, KEY,
                "{\"event_types\":[\"webhook.disabled\"],\"enabled\":false}");
        assertThat(changed.statusCode()).as(changed.body()).isEqualTo(200);
        SubscriptionConfig republished = Contract.read(latest(id).value(), SubscriptionConfig.class);
        assertThat(republished.eventTypes()).containsExactly("webhook.disabled");
        assertThat(republished.enabled()).isFalse();

        assertThat(delete(SUBSCRIPTIONS + "/" + id, KEY).statusCode()).isEqualTo(204);
        assertThat(latest(id).value()).isNull();
        assertThat(get(SUBSCRIPTIONS + "/" + id, KEY).statusCode()).isEqualTo(404);
        assertThat(delete(SUBSCRIPTIONS + "/" + id, KEY).statusCode()).isEqualTo(404);
    }

    @Test
    void deletingTheWebhookTombstonesItsSubscriptions() throws Exception {
        String webhook = webhook(KEY);
        String first = subscribe(KEY, webhook);
        String second = subscribe(KEY, webhook);

        assertThat(delete("/api/v2/webhooks/" + webhook, KEY).statusCode()).isEqualTo(204);

        assertThat(latest(first).value()).isNull();
        assertThat(latest(second).value()).isNull();
        assertThat(get(SUBSCRIPTIONS + "/" + first, KEY).statusCode()).isEqualTo(404);
    }

    @Test
    void refusesUnknownEventTypesAndNamesEachField() throws Exception {
        HttpResponse<String> refused = post(SUBSCRIPTIONS, JSON_TYPE, KEY,
                "{\"event_types\":[\"call.final\",\"call.everything\"]}");

        assertThat(refused.statusCode()).isEqualTo(400);
        assertThat(refused.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(json(refused).get("errors").findValuesAsString("field"))
                .containsExactlyInAnyOrder("webhook_id", "event_types[1]");
    }

    @Test
    void keepsEachAccountsSubscriptionsApart() throws Exception {
        String otherKey = TestAccounts.another();
        String foreignWebhook = webhook(otherKey);
        String foreign = subscribe(otherKey, foreignWebhook);

        assertThat(get(SUBSCRIPTIONS + "/" + foreign, KEY).statusCode()).isEqualTo(404);
        assertThat(patch(SUBSCRIPTIONS + "/" + foreign, KEY, "{\"enabled\":false}").statusCode()).isEqualTo(404);
        assertThat(delete(SUBSCRIPTIONS + "/" + foreign, KEY).statusCode()).isEqualTo(404);
        assertThat(json(get(SUBSCRIPTIONS, KEY)).get("data").findValuesAsString("id")).doesNotContain(foreign);

        HttpResponse<String> onForeignWebhook = post(SUBSCRIPTIONS, JSON_TYPE, KEY,
                "{\"webhook_id\":\"" + foreignWebhook + "\",\"event_types\":[\"call.final\"]}");
        assertThat(onForeignWebhook.statusCode()).isEqualTo(400);
        assertThat(json(onForeignWebhook).get("errors").get(0).get("field").asString()).isEqualTo("webhook_id");
        assertThat(json(get(SUBSCRIPTIONS + "/" + foreign, otherKey)).get("enabled").asBoolean()).isTrue();
    }

    private String webhook(String key) throws Exception {
        HttpResponse<String> created = post("/api/v2/webhooks", JSON_TYPE, key,
                "{\"url\":\"https://subs.example.com/" + WebhookChangesIT.unique() + "\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return json(created).get("id").asString();
    }

    private String subscribe(String key, String webhook) throws Exception {
        HttpResponse<String> created = post(SUBSCRIPTIONS, JSON_TYPE, key,
                "{\"webhook_id\":\"" + webhook + "\",\"event_types\":[\"call.final\"]}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return json(created).get("id").asString();
    }

    private static ConsumerRecord<String, byte[]> latest(String subscriptionId) {
        try (TopicProbe configs = probe(Topics.WEBHOOK_CONFIG)) {
            List<ConsumerRecord<String, byte[]>> records = configs.readToEnd().stream()
                    .filter(record -> SubscriptionConfig.key(subscriptionId).equals(record.key())).toList();
            assertThat(records).as("records of subscription " + subscriptionId).isNotEmpty();
            return records.get(records.size() - 1);
        }
    }
}
