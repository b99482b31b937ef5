package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.EventType;
import dev.dialer.common.kafka.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Account settings (stored, published on dialer.account.config, enforced on both send dialects, used for number
 * regions) and the compliance preview answering from DialPolicy with the account's real facts. Each test uses its own
 * account, since settings change what every later request of that account gets.
 */
class SettingsAndPreviewIT extends RunningApiService {

    private static TopicProbe config;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void probe() {
        if (config == null) {
            config = probe(Topics.ACCOUNT_CONFIG);
        }
    }

    @AfterAll
    static void close() {
        if (config != null) {
            config.close();
        }
    }

    @Test
    void putStoresPublishesAndAnswersTheSettingsNormalised() throws Exception {
        String account = "it-settings-" + UUID.randomUUID().toString().substring(0, 8);
        String key = TestAccounts.ensure(account);

        HttpResponse<String> put = put(key, """
                {"default_region":"IN","calling_window":{"start":"10:00","end":"19:30"},
                 "campaign_windows":[{"campaign":"late","start":"12:00","end":"22:00"}],
                 "cps_per_caller_id":2.5,"allowed_caller_ids":["08068281234","+918068280000"],
                 "per_callee_daily_cap":3}""");

        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        JsonNode answer = json(put);
        assertThat(answer.get("allowed_caller_ids").get(0).asString()).isEqualTo("+918068281234");
        assertThat(answer.get("calling_window").get("end").asString()).isEqualTo("19:30");
        assertThat(json(get("/api/v2/account/settings", key))).isEqualTo(answer);
        ConsumerRecord<String, byte[]> record = config.readToEnd().stream()
                .filter(r -> account.equals(r.key())).reduce((a, b) -> b).orElseThrow();
        AccountSettings published = Contract.read(record.value(), AccountSettings.class);
        assertThat(published.allowedCallerIds()).containsExactly("+918068281234", "+918068280000");
        assertThat(published.perCalleeDailyCap()).isEqualTo(3);
        assertThat(published.cpsPerCallerId()).isEqualTo(2.5);
        assertThat(published.windowFor("late").end().toString()).isEqualTo("22:00");
    }

    @Test
    void getAnswersTheSettingsAnotherInstanceStoredRatherThanThoseThisOneCached() throws Exception {
        String account = "it-settings-" + UUID.randomUUID().toString().substring(0, 8);
        String key = TestAccounts.ensure(account);
        // Taken here: this instance caches the settings for its sends.
        assertThat(put(key, "{\"per_callee_daily_cap\":3}").statusCode()).isEqualTo(200);

        // Then another instance takes a PUT, which stores the settings as this row.
        AccountSettings replaced = new AccountSettings(AccountSettings.VERSION, account, null, null, List.of(), null,
                List.of(), 5, Instant.now().truncatedTo(ChronoUnit.MICROS));
        try (Connection db = database(); PreparedStatement store = db.prepareStatement(
                "UPDATE api.account_settings SET settings = ?, updated_at = now() WHERE account_id = ?")) {
            store.setString(1, Contract.toJson(replaced));
            store.setString(2, account);
            assertThat(store.executeUpdate()).isEqualTo(1);
        }

        assertThat(json(get("/api/v2/account/settings", key)).get("per_callee_daily_cap").asInt()).isEqualTo(5);
    }

    @Test
    void refusesInvalidSettingsNamingEveryField() throws Exception {
        String key = TestAccounts.ensure("it-settings-bad");

        HttpResponse<String> put = put(key, """
                {"default_region":"XX","calling_window":{"start":"25:00","end":"10:00"},"cps_per_caller_id":0,
                 "allowed_caller_ids":["12"],"per_callee_daily_cap":0}""");

        assertThat(put.statusCode()).isEqualTo(400);
        assertThat(json(put).get("errors").findValuesAsString("field")).containsExactlyInAnyOrder("default_region",
                "calling_window.start", "cps_per_caller_id", "allowed_caller_ids[0]", "per_callee_daily_cap");
    }

    @Test
    void refusesABodyAboveTheLimitWith413() throws Exception {
        String key = TestAccounts.ensure("it-settings-bad");

        HttpResponse<String> put = put(key, "{\"default_region\":\"" + "x".repeat(140_000) + "\"}");

        assertThat(put.statusCode()).as(put.body()).isEqualTo(413);
        assertThat(json(put).get("detail").asString()).isEqualTo("The body is larger than 131072 bytes.");
    }

    @Test
    void bothSendDialectsRefuseACallerIdOutsideTheAllowedListWith403() throws Exception {
        String account = "it-settings-" + UUID.randomUUID().toString().substring(0, 8);
        String key = TestAccounts.ensure(account);
        assertThat(put(key, "{\"allowed_caller_ids\":[\"918068280000\"]}").statusCode()).isEqualTo(200);

        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, key,
                "{\"bridge\":\"918068281234\",\"to\":\"919876543215\",\"flow_id\":\"1\"}");
        HttpResponse<String> gateway = post("/v1/Accounts/" + account + "/Calls", JSON_TYPE, key, """
                {"application_sid":"app","from":"918068281234","to":{"type":"phone","number":"919876543215"}}""");
        HttpResponse<String> allowed = post("/api/v2/outgoing/send", JSON_TYPE, key,
                "{\"bridge\":\"918068280000\",\"to\":\"919876543215\",\"flow_id\":\"1\"}");

        // The Voice Gateway's own example of a custom header: the caller a trusted trunk presents.
        HttpResponse<String> presented = post("/v1/Accounts/" + account + "/Calls", JSON_TYPE, key, """
                {"application_sid":"app","from":"918068280000","to":{"type":"phone","number":"919876543215"},
                 "headers":{"P-Preferred-Identity":"<sip:+918068281234@sip.example.com>"}}""");
        HttpResponse<String> presentedAllowed = post("/v1/Accounts/" + account + "/Calls", JSON_TYPE, key, """
                {"application_sid":"app","from":"918068280000","to":{"type":"phone","number":"919876543216"},
                 "headers":{"P-Preferred-Identity":"<sip:+918068280000@sip.example.com>"}}""");

        assertForbidden(sent, "bridge");
        assertForbidden(gateway, "from");
        assertForbidden(presented, "headers.P-Preferred-Identity");
        assertThat(presentedAllowed.statusCode()).as(presentedAllowed.body()).isEqualTo(201);
        assertThat(allowed.statusCode()).as(allowed.body()).isEqualTo(200);
    }

    @Test
    void bothSendDialectsRefuseAFlowOutsideTheAllowedListWith403AndTheSettingsShowIt() throws Exception {
        String account = "it-settings-" + UUID.randomUUID().toString().substring(0, 8);
        String key = TestAccounts.ensure(account);
        HttpResponse<String> put = put(key, "{\"allowed_flow_ids\":[\"23\",\"app-own\"]}");
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        assertThat(json(put).get("allowed_flow_ids").toString()).isEqualTo("[\"23\",\"app-own\"]");

        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, key,
                "{\"bridge\":\"918068281234\",\"to\":\"919876543215\",\"flow_id\":\"24\"}");
        HttpResponse<String> gateway = post("/v1/Accounts/" + account + "/Calls", JSON_TYPE, key, """
                {"application_sid":"app-other","from":"918068281234","to":{"type":"phone","number":"919876543215"}}""");
        HttpResponse<String> ownFlow = post("/api/v2/outgoing/send", JSON_TYPE, key,
                "{\"bridge\":\"918068281234\",\"to\":\"919876543215\",\"flow_id\":\"23\"}");
        HttpResponse<String> ownApplication = post("/v1/Accounts/" + account + "/Calls", JSON_TYPE, key, """
                {"application_sid":"app-own","from":"918068281234","to":{"type":"phone","number":"919876543216"}}""");
        HttpResponse<String> audio = post("/api/v2/outgoing/send", JSON_TYPE, key,
                "{\"bridge\":\"918068281234\",\"to\":\"919876543217\",\"audio\":\"welcome.wav\"}");
        // An allowed application sid with a hook of the request's own: jambonz would run the hook.
        HttpResponse<String> ownHook = post("/v1/Accounts/" + account + "/Calls", JSON_TYPE, key, """
                {"application_sid":"app-own","call_hook":"https://crm.example.com/hook","from":"918068281234",
                "to":{"type":"phone","number":"919876543218"}}""");
        HttpResponse<String> ownApp = post("/v1/Accounts/" + account + "/Calls", JSON_TYPE, key, """
                {"application_sid":"app-own","app_json":"[{\\"verb\\":\\"hangup\\"}]","from":"918068281234",
                "to":{"type":"phone","number":"919876543219"}}""");

        assertForbidden(sent, "flow_id");
        assertForbidden(gateway, "application_sid");
        assertForbidden(ownHook, "call_hook");
        assertForbidden(ownApp, "app_json");
        assertThat(ownFlow.statusCode()).as(ownFlow.body()).isEqualTo(200);
        assertThat(ownApplication.statusCode()).as(ownApplication.body()).isEqualTo(201);
        assertThat(audio.statusCode()).as(audio.body()).isEqualTo(200);
        JsonNode previewed = json(post("/api/v2/outgoing/preview", JSON_TYPE, key,
                "{\"bridge\":\"918068281234\",\"to\":\"919876543215\",\"flow_id\":\"24\"}")).get("data").get(0);
        assertThat(previewed.get("decision").asString()).isEqualTo("block");
        assertThat(previewed.get("reason").asString()).isEqualTo("flow_not_allowed");
    }

    /** A 403 problem naming {@code field}, as either send dialect answers a value the account may not use. */
    private static void assertForbidden(HttpResponse<String> answer, String field) {
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(403);
        assertThat(json(answer).get("type").asString()).isEqualTo("https://dialer.dev/problems/forbidden");
        assertThat(json(answer).get("errors").get(0).get("field").asString()).isEqualTo(field);
    }

    @Test
    void theAccountsRegionReadsNumbersWrittenWithoutACountryCode() throws Exception {
        String key = TestAccounts.ensure("it-settings-us-" + UUID.randomUUID().toString().substring(0, 8));
        assertThat(put(key, "{\"default_region\":\"US\"}").statusCode()).isEqualTo(200);

        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, key,
                "{\"bridge\":\"2025550143\",\"to\":\"4155550123\",\"flow_id\":\"1\"}");

        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        assertThat(json(sent).get("data").get(0).get("mobile").asString()).isEqualTo("14155550123");
    }

    @Test
    void anotherAccountSeesOnlyItsOwnSettings() throws Exception {
        String key = TestAccounts.ensure("it-settings-iso-" + UUID.randomUUID().toString().substring(0, 8));
        String otherKey = TestAccounts.ensure("it-settings-iso-other");
        assertThat(put(key, "{\"allowed_caller_ids\":[\"918068280000\"]}").statusCode()).isEqualTo(200);

        assertThat(json(get("/api/v2/account/settings", otherKey)).get("allowed_caller_ids")).isEmpty();
    }

    @Test
    void previewAnswersEachRecipientFromTheDialPolicyWithoutQueuingAnything() throws Exception {
        String account = "it-preview-" + UUID.randomUUID().toString().substring(0, 8);
        String key = capOfOneAllDay(account);
        assertThat(putDnc(key, "9876500100").statusCode()).isEqualTo(200);
        // Another account's DNC entry is that account's business: it must not block this one's call.
        assertThat(putDnc(TestAccounts.ensure("it-preview-other"), "9876500102").statusCode()).isEqualTo(200);
        // One attempt reached +919876500101 a moment ago: with a cap of one, the next waits 24 h.
        try (CallEventsProducer events = new CallEventsProducer()) {
            CallCommand earlier = CallEventsProducer.command(account, UUID.randomUUID().toString(),
                    "+919876500101", null, null, 0);
            events.send(CallEventsProducer.event(earlier, EventType.STATUS, 1, "initiated").build());
            // A call to +919876500103 was queued but never reached a carrier: the dispatcher does not count it.
            CallCommand neverDialled = CallEventsProducer.command(account, UUID.randomUUID().toString(),
                    "+919876500103", null, null, 0);
            events.send(CallEventsProducer.event(neverDialled, EventType.STATUS, 1, "queued").build());
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> json(get("/api/v2/calls?limit=10", key)).get("data")
                .size() == 2);

        HttpResponse<String> preview = post("/api/v2/outgoing/preview", JSON_TYPE, key, """
                {"bridge":"918068281234","to":"9876500100,9876500101,9876500102,12,919876500101,9876500103",
                 "flow_id":"1"}""");

        assertThat(preview.statusCode()).as(preview.body()).isEqualTo(200);
        JsonNode rows = json(preview).get("data");
        assertThat(rows).hasSize(6);
        assertThat(rows.get(0).get("decision").asString()).isEqualTo("block");
        assertThat(rows.get(0).get("reason").asString()).isEqualTo("dnc");
        assertThat(rows.get(1).get("decision").asString()).isEqualTo("defer");
        assertThat(rows.get(1).get("reason").asString()).isEqualTo("callee_cap");
        assertThat(Instant.parse(rows.get(1).get("not_before").asString()))
                .isAfter(Instant.now().plus(Duration.ofHours(23)));
        assertThat(rows.get(2).get("decision").asString()).isEqualTo("dial");
        assertThat(rows.get(3).get("decision").asString()).isEqualTo("rejected");
        // The same number again (written another way) is no second call: the send queues it once.
        assertThat(rows.get(4).get("decision").asString()).isEqualTo("duplicate");
        assertThat(rows.get(4).get("mobile").asString()).isEqualTo("919876500101");
        assertThat(rows.get(5).get("decision").asString()).as("a queued attempt rang nobody").isEqualTo("dial");
        assertThat(json(get("/api/v2/calls?limit=10", key)).get("data")).hasSize(2);
        assertThat(scrape()).as("every answer counted, a rejected number too")
                .containsPattern("dialer_api_preview_decisions_total\\{[^}]*decision=\"rejected\"[^}]*} [1-9]");
    }

    @Test
    void previewAnswersANumberListedAgainAsADuplicateThatTheCapDoesNotCount() throws Exception {
        String key = capOfOneAllDay("it-preview-" + UUID.randomUUID().toString().substring(0, 8));

        JsonNode rows = json(post("/api/v2/outgoing/preview", JSON_TYPE, key, """
                {"bridge":"918068281234","to":"9876500120,+919876500120,9876500121","flow_id":"1"}""")).get("data");

        // The send makes one call to the number, for its first listing: the cap of one lets it through.
        assertThat(rows.get(0).get("decision").asString()).as(rows.toString()).isEqualTo("dial");
        assertThat(rows.get(1).get("decision").asString()).as(rows.toString()).isEqualTo("duplicate");
        assertThat(rows.get(1).get("reason").isNull()).isTrue();
        assertThat(rows.get(1).get("not_before").isNull()).isTrue();
        assertThat(rows.get(2).get("decision").asString()).as(rows.toString()).isEqualTo("dial");
    }

    @Test
    void previewAnswersANumberWhoseForeignIdASendUsedAsADuplicateAsTheSendDoes() throws Exception {
        String key = capOfOneAllDay("it-preview-" + UUID.randomUUID().toString().substring(0, 8));
        String body = """
                {"bridge":"918068281234","to":"%s","flow_id":"1","foreign_id":"%s"}""";
        assertThat(post("/api/v2/outgoing/send", JSON_TYPE, key, body.formatted("9876500150", "crm-7")).statusCode())
                .isEqualTo(200);

        JsonNode rows = json(post("/api/v2/outgoing/preview", JSON_TYPE, key,
                body.formatted("9876500150,9876500151", "crm-7"))).get("data");
        JsonNode otherReference = json(post("/api/v2/outgoing/preview", JSON_TYPE, key,
                body.formatted("9876500150", "crm-8"))).get("data").get(0);
        JsonNode sent = json(post("/api/v2/outgoing/send", JSON_TYPE, key,
                body.formatted("9876500150,9876500151", "crm-7"))).get("data");

        assertThat(rows.get(0).get("decision").asString()).as(rows.toString()).isEqualTo("duplicate");
        assertThat(rows.get(0).get("reason").asString()).isEqualTo("foreign_id");
        assertThat(rows.get(1).get("decision").asString()).as(rows.toString()).isEqualTo("dial");
        assertThat(otherReference.get("decision").asString()).as("another reference is another call")
                .isEqualTo("dial");
        assertThat(sent.get(0).get("status").asString()).as(sent.toString()).isEqualTo("duplicate");
        assertThat(sent.get(1).get("status").asString()).as(sent.toString()).isNotEqualTo("duplicate");
    }

    @Test
    void previewDoesNotCountADialTheCarrierRefusedForCapacityUntilItIsDialledAgain() throws Exception {
        String account = "it-preview-" + UUID.randomUUID().toString().substring(0, 8);
        String key = capOfOneAllDay(account);
        CallCommand refused = CallEventsProducer.command(account, UUID.randomUUID().toString(), "+919876500131",
                null, null, 0);
        try (CallEventsProducer events = new CallEventsProducer()) {
            events.send(CallEventsProducer.event(refused, EventType.STATUS, 1, "queued").build());
            events.send(CallEventsProducer.event(refused, EventType.STATUS, 2, "initiated").build());
            // The carrier's 503 "Max Calls In Progress": the attempt waits under its number, its dial given back.
            events.send(CallEventsProducer.event(refused, EventType.DEFERRED, 3, null).reason("capacity").build());
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> statusOfOnlyCall(key).equals("deferred"));
        String body = """
                {"bridge":"918068281234","to":"9876500131","flow_id":"1"}""";

        JsonNode row = json(post("/api/v2/outgoing/preview", JSON_TYPE, key, body)).get("data").get(0);

        assertThat(row.get("decision").asString()).as(row.toString()).isEqualTo("dial");

        try (CallEventsProducer events = new CallEventsProducer()) {
            events.send(CallEventsProducer.event(refused, EventType.STATUS, 4, "initiated").build());
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> statusOfOnlyCall(key).equals("initiated"));

        row = json(post("/api/v2/outgoing/preview", JSON_TYPE, key, body)).get("data").get(0);

        assertThat(row.get("decision").asString()).as("dialled again: counted").isEqualTo("defer");
        assertThat(row.get("reason").asString()).isEqualTo("callee_cap");
    }

    @Test
    void previewDoesNotCountAnAttemptThatEndedWithNoCallPlaced() throws Exception {
        String account = "it-preview-" + UUID.randomUUID().toString().substring(0, 8);
        String key = capOfOneAllDay(account);
        CallCommand refused = CallEventsProducer.command(account, UUID.randomUUID().toString(), "+919876500132",
                null, null, 0);
        CallCommand answered = CallEventsProducer.command(account, UUID.randomUUID().toString(), "+919876500133",
                null, null, 0);
        try (CallEventsProducer events = new CallEventsProducer()) {
            events.send(CallEventsProducer.event(refused, EventType.STATUS, 1, "queued").build());
            events.send(CallEventsProducer.event(refused, EventType.STATUS, 2, "initiated").build());
            // The carrier had no capacity for it until the request gave up: the attempt ends, having rung nobody.
            events.send(CallEventsProducer.event(refused, EventType.STATUS, 3, "failed").reason("capacity").build());
            // Another callee's attempt that failed after the carrier placed it still counts.
            events.send(CallEventsProducer.event(answered, EventType.STATUS, 1, "queued").build());
            events.send(CallEventsProducer.event(answered, EventType.STATUS, 2, "initiated").build());
            events.send(CallEventsProducer.event(answered, EventType.STATUS, 3, "failed").build());
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> statusesOfCalls(key).equals(List.of("failed", "failed")));

        JsonNode rows = json(post("/api/v2/outgoing/preview", JSON_TYPE, key, """
                {"bridge":"918068281234","to":"9876500132,9876500133","flow_id":"1"}""")).get("data");

        assertThat(rows.get(0).get("decision").asString()).as(rows.toString()).isEqualTo("dial");
        assertThat(rows.get(1).get("decision").asString()).as(rows.toString()).isEqualTo("defer");
    }

    /** The account's API key, its settings put to one call a day per callee and calls at any hour. */
    private String capOfOneAllDay(String account) throws Exception {
        String key = TestAccounts.ensure(account);
        assertThat(put(key, """
                {"calling_window":{"start":"00:00","end":"00:00"},"per_callee_daily_cap":1}""").statusCode())
                .isEqualTo(200);
        return key;
    }

    private List<String> statusesOfCalls(String key) throws Exception {
        List<String> statuses = new java.util.ArrayList<>();
        json(get("/api/v2/calls?limit=10", key)).get("data")
                .forEach(call -> statuses.add(call.get("status").asString()));
        return statuses;
    }

    private String statusOfOnlyCall(String key) throws Exception {
        JsonNode calls = json(get("/api/v2/calls?limit=10", key)).get("data");
        return calls.size() == 1 ? calls.get(0).get("status").asString() : "";
    }

    @Test
    void previewCountsTheCalleeCapFromWhenAnAttemptWasDialledNotWhenItWasQueued() throws Exception {
        String account = "it-preview-" + UUID.randomUUID().toString().substring(0, 8);
        String key = capOfOneAllDay(account);
        // Queued 25 hours ago, outside the cap's 24 hours, but dialled only an hour ago: the dispatcher counts it
        // from its dial, until 23 hours from now.
        Instant dialled = Instant.now().minus(Duration.ofHours(1));
        try (CallEventsProducer events = new CallEventsProducer()) {
            CallCommand late = CallEventsProducer.command(account, UUID.randomUUID().toString(), "+919876500111",
                    null, null, 0);
            events.send(CallEventsProducer.event(late, EventType.STATUS, 1, "queued")
                    .occurredAt(dialled.minus(Duration.ofHours(24))).build());
            events.send(CallEventsProducer.event(late, EventType.STATUS, 2, "initiated").occurredAt(dialled).build());
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            JsonNode calls = json(get("/api/v2/calls?limit=10", key)).get("data");
            return calls.size() == 1 && "initiated".equals(calls.get(0).get("status").asString());
        });

        JsonNode row = json(post("/api/v2/outgoing/preview", JSON_TYPE, key, """
                {"bridge":"918068281234","to":"9876500111","flow_id":"1"}""")).get("data").get(0);

        assertThat(row.get("decision").asString()).as(row.toString()).isEqualTo("defer");
        assertThat(row.get("reason").asString()).isEqualTo("callee_cap");
        assertThat(Instant.parse(row.get("not_before").asString()))
                .isBetween(dialled.plus(Duration.ofHours(24)).minusSeconds(1),
                        dialled.plus(Duration.ofHours(24)).plusSeconds(1));
    }

    @Test
    void previewBlocksACallerIdTheAccountMayNotUseAndExpiresACallWhoseWindowOpensAfterValidUntil()
            throws Exception {
        String key = TestAccounts.ensure("it-preview-" + UUID.randomUUID().toString().substring(0, 8));
        // A window that opens two hours from now in India, so a call valid for ten minutes can never be placed.
        java.time.LocalTime inTwoHours = java.time.LocalTime.now(java.time.ZoneId.of("Asia/Kolkata")).plusHours(2)
                .withSecond(0).withNano(0);
        assertThat(put(key, """
                {"allowed_caller_ids":["918068280000"],"calling_window":{"start":"%s","end":"%s"}}""".formatted(
                inTwoHours, inTwoHours.plusHours(1))).statusCode()).isEqualTo(200);
        String validUntil = Instant.now().plus(Duration.ofMinutes(10)).toString();

        JsonNode rows = json(post("/api/v2/outgoing/preview", JSON_TYPE, key, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1"}""")).get("data");
        JsonNode expired = json(post("/api/v2/outgoing/preview", JSON_TYPE, key, """
                {"bridge":"918068280000","to":"919876543215","flow_id":"1","valid_until":"%s"}""".formatted(
                validUntil))).get("data").get(0);

        assertThat(rows.get(0).get("decision").asString()).isEqualTo("block");
        assertThat(rows.get(0).get("reason").asString()).isEqualTo("caller_id_not_allowed");
        assertThat(expired.get("decision").asString()).isEqualTo("expire");
        assertThat(expired.get("reason").asString()).isEqualTo("valid_until");
    }

    @Test
    void previewRefusesAWebhookIdThatIsNotTheAccountsAsTheSendDoes() throws Exception {
        String key = TestAccounts.ensure("it-preview-" + UUID.randomUUID().toString().substring(0, 8));
        HttpResponse<String> own = post("/api/v2/webhooks", JSON_TYPE, key,
                "{\"url\":\"https://preview.example.com/" + UUID.randomUUID() + "\"}");
        HttpResponse<String> others = post("/api/v2/webhooks", JSON_TYPE, TestAccounts.another(),
                "{\"url\":\"https://preview.example.com/" + UUID.randomUUID() + "\"}");
        assertThat(own.statusCode()).as(own.body()).isEqualTo(201);
        assertThat(others.statusCode()).as(others.body()).isEqualTo(201);
        String body = """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","webhook_id":"%s"}""";

        for (String webhookId : List.of(json(others).get("id").asString(), "wh-none")) {
            HttpResponse<String> send = post("/api/v2/outgoing/send", JSON_TYPE, key, body.formatted(webhookId));
            HttpResponse<String> preview = post("/api/v2/outgoing/preview", JSON_TYPE, key,
                    body.formatted(webhookId));

            assertThat(send.statusCode()).as(send.body()).isEqualTo(400);
            assertThat(preview.statusCode()).as(preview.body()).isEqualTo(400);
            assertThat(preview.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(json(preview).get("errors")).isEqualTo(json(send).get("errors"));
            assertThat(json(preview).get("errors").get(0).get("field").asString()).isEqualTo("webhook_id");
        }
        HttpResponse<String> ownPreview = post("/api/v2/outgoing/preview", JSON_TYPE, key,
                body.formatted(json(own).get("id").asString()));
        assertThat(ownPreview.statusCode()).as(ownPreview.body()).isEqualTo(200);
        assertThat(json(ownPreview).get("data")).hasSize(1);
    }

    @Test
    void previewOfAPausedCampaignsCallWaitsForTheResumeAsTheDispatcherWould() throws Exception {
        String key = TestAccounts.ensure("it-preview-" + UUID.randomUUID().toString().substring(0, 8));
        String campaign = "c-" + UUID.randomUUID();
        String body = """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","name":"%s"}""";
        assertThat(put(key, """
                {"allowed_caller_ids":["918068281234"]}""").statusCode()).isEqualTo(200);
        assertThat(post("/api/v2/outgoing/send", JSON_TYPE, key, body.formatted(campaign)).statusCode())
                .isEqualTo(200);
        assertThat(post("/api/v2/campaigns/" + campaign + "/pause", null, key, "").statusCode()).isEqualTo(202);
        // A caller ID the account may not use is refused 403 by the send, paused campaign or not.
        String notAllowed = body.replace("918068281234", "918068280000").formatted(campaign);
        assertThat(post("/api/v2/outgoing/send", JSON_TYPE, key, notAllowed).statusCode()).isEqualTo(403);
        JsonNode refused = json(post("/api/v2/outgoing/preview", JSON_TYPE, key, notAllowed)).get("data").get(0);
        assertThat(refused.get("decision").asString()).isEqualTo("block");
        assertThat(refused.get("reason").asString()).isEqualTo("caller_id_not_allowed");

        JsonNode paused = json(post("/api/v2/outgoing/preview", JSON_TYPE, key, body.formatted(campaign)))
                .get("data").get(0);
        JsonNode otherCampaign = json(post("/api/v2/outgoing/preview", JSON_TYPE, key, body.formatted("other")))
                .get("data").get(0);
        assertThat(post("/api/v2/campaigns/" + campaign + "/resume", null, key, "").statusCode()).isEqualTo(202);
        JsonNode resumed = json(post("/api/v2/outgoing/preview", JSON_TYPE, key, body.formatted(campaign)))
                .get("data").get(0);

        assertThat(paused.get("decision").asString()).isEqualTo("defer");
        assertThat(paused.get("reason").asString()).isEqualTo("paused");
        assertThat(paused.get("not_before").isNull()).as("it waits for a resume, not for a time").isTrue();
        for (JsonNode notPaused : List.of(otherCampaign, resumed)) {
            assertThat(notPaused.get("reason").isNull() ? null : notPaused.get("reason").asString())
                    .isNotEqualTo("paused");
        }
    }

    private HttpResponse<String> put(String key, String body) throws Exception {
        return send("/api/v2/account/settings", key, body);
    }

    private HttpResponse<String> putDnc(String key, String number) throws Exception {
        return send("/api/v2/dnc/" + number, key, "");
    }

    private HttpResponse<String> send(String path, String key, String body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", JSON_TYPE)
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
