package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.EventType;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The calls read model built from events on the real topic, and its endpoints scoped to the caller's account. */
class CallsReadModelIT extends RunningApiService {

    private static final String OTHER = "it-calls-other";
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static CallEventsProducer events;
    private String otherKey;

    @BeforeAll
    static void producer() {
        events = new CallEventsProducer();
    }

    @AfterAll
    static void closeProducer() {
        events.close();
    }

    @BeforeEach
    void otherAccount() throws Exception {
        otherKey = TestAccounts.ensure(OTHER);
    }

    @Test
    void aCallJustSentIsFoundQueuedBeforeAnyEvent() throws Exception {
        String campaign = "c-" + UUID.randomUUID();
        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, KEY, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","name":"%s","foreign_id":"q-%s",
                 "interval":5,"max_attempts":4}""".formatted(campaign, campaign));
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        String id = json(sent).get("data").get(0).get("id").asString();

        HttpResponse<String> found = get("/api/v2/calls/" + id, KEY);

        assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
        JsonNode call = json(found);
        assertThat(call.get("status").asString()).isEqualTo("queued");
        assertThat(call.get("campaign").asString()).isEqualTo(campaign);
        assertThat(call.get("to").asString()).isEqualTo("+919876543215");
        assertThat(call.get("max_attempts").asInt()).isEqualTo(4);
        assertThat(call.get("attempts")).isEmpty();
    }

    @Test
    void eventsOutOfOrderAndRepeatedEndInTheFinalStateWithTheAttemptsSipStatus() throws Exception {
        String id = UUID.randomUUID().toString();
        String campaign = "c-" + UUID.randomUUID();
        CallCommand command = CallEventsProducer.command(ACCOUNT, id, "+919876543299", campaign, "fx-" + id, 0);
        CallEvent initiated = CallEventsProducer.event(command, EventType.STATUS, 1, "initiated")
                .provider("queued", "sip-call-1").build();
        CallEvent ringing = CallEventsProducer.event(command, EventType.STATUS, 2, "ringing").build();
        CallEvent completed = CallEventsProducer.event(command, EventType.STATUS, 4, "completed")
                .sip(200, "OK").durationSeconds(31).build();
        CallEvent answered = CallEventsProducer.event(command, EventType.FINAL, 5, "answered").build();

        // Final first, then the older ones, one of them twice; and an unreadable record the reader must skip.
        events.sendRaw(id, "not json".getBytes(StandardCharsets.UTF_8));
        events.send(answered);
        events.send(completed);
        events.send(ringing);
        events.send(initiated);
        events.send(ringing);

        await().atMost(WAIT).untilAsserted(() -> {
            HttpResponse<String> found = get("/api/v2/calls/" + id, KEY);
            assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
            JsonNode call = json(found);
            assertThat(call.get("attempts")).hasSize(1);
            assertThat(call.get("attempts").get(0).get("provider_call_id").asString()).isEqualTo("sip-call-1");
        });
        JsonNode call = json(get("/api/v2/calls/" + id, KEY));
        assertThat(call.get("status").asString()).isEqualTo("answered");
        assertThat(call.get("final_status").asString()).isEqualTo("answered");
        assertThat(call.get("finished_at").isNull()).isFalse();
        assertThat(call.get("attempts_used").asInt()).isEqualTo(1);
        JsonNode attempt = call.get("attempts").get(0);
        assertThat(attempt.get("status").asString()).isEqualTo("completed");
        assertThat(attempt.get("sip_status").asInt()).isEqualTo(200);
        assertThat(attempt.get("duration_seconds").asInt()).isEqualTo(31);
        assertThat(attempt.get("ended_at").isNull()).isFalse();
    }

    @Test
    void listsByCampaignStatusAndForeignIdPagedByCursorAndCountsTheCampaign() throws Exception {
        String campaign = "c-" + UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String id = UUID.randomUUID().toString();
            ids.add(id);
            CallCommand command = CallEventsProducer.command(ACCOUNT, id, "+91987654330" + i, campaign, "f-" + i, 0);
            events.send(CallEventsProducer.event(command, EventType.STATUS, 1, "initiated").build());
            if (i == 0) {
                events.send(CallEventsProducer.event(command, EventType.FINAL, 2, "exhausted").build());
            }
        }
        await().atMost(WAIT).untilAsserted(() -> assertThat(
                json(get("/api/v2/calls?campaign=" + campaign, KEY)).get("data")).hasSize(3));

        JsonNode firstPage = json(get("/api/v2/calls?campaign=" + campaign + "&limit=2", KEY));
        assertThat(firstPage.get("data")).hasSize(2);
        String cursor = firstPage.get("next_cursor").asString();
        JsonNode secondPage = json(get("/api/v2/calls?campaign=" + campaign + "&limit=2&cursor=" + cursor, KEY));
        assertThat(secondPage.get("data")).hasSize(1);
        assertThat(secondPage.get("next_cursor").isNull()).isTrue();
        List<String> paged = new ArrayList<>();
        firstPage.get("data").forEach(call -> paged.add(call.get("id").asString()));
        secondPage.get("data").forEach(call -> paged.add(call.get("id").asString()));
        assertThat(paged).containsExactlyInAnyOrderElementsOf(ids);

        JsonNode exhausted = json(get("/api/v2/calls?campaign=" + campaign + "&status=exhausted", KEY));
        assertThat(exhausted.get("data")).hasSize(1);
        assertThat(exhausted.get("data").get(0).get("id").asString()).isEqualTo(ids.get(0));
        JsonNode byForeignId = json(get("/api/v2/calls?campaign=" + campaign + "&foreign_id=f-2", KEY));
        assertThat(byForeignId.get("data").get(0).get("id").asString()).isEqualTo(ids.get(2));

        JsonNode progress = json(get("/api/v2/campaigns/" + campaign, KEY));
        assertThat(progress.get("total").asLong()).isEqualTo(3);
        assertThat(progress.get("finished").asLong()).isEqualTo(1);
        assertThat(progress.get("by_status").get("initiated").asLong()).isEqualTo(2);
        assertThat(progress.get("by_status").get("exhausted").asLong()).isEqualTo(1);
        assertThat(progress.get("progress").asDouble()).isEqualTo(0.3333);
        assertThat(progress.get("state").asString()).isEqualTo("active");
    }

    @Test
    void anotherAccountsCallsAndCampaignsAreNotFound() throws Exception {
        String campaign = "c-" + UUID.randomUUID();
        HttpResponse<String> sent = post("/api/v2/outgoing/send", JSON_TYPE, KEY, """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","name":"%s"}""".formatted(campaign));
        String id = json(sent).get("data").get(0).get("id").asString();

        HttpResponse<String> call = get("/api/v2/calls/" + id, otherKey);
        assertThat(call.statusCode()).isEqualTo(404);
        assertThat(call.headers().firstValue("Content-Type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("application/problem+json"));
        assertThat(get("/api/v2/campaigns/" + campaign, otherKey).statusCode()).isEqualTo(404);
        assertThat(json(get("/api/v2/calls?campaign=" + campaign, otherKey)).get("data")).isEmpty();
        assertThat(get("/api/v2/calls/" + UUID.randomUUID(), KEY).statusCode()).isEqualTo(404);
    }

    @Test
    void cancelRejectedIsNotedWithoutChangingTheCallsStatus() throws Exception {
        String id = UUID.randomUUID().toString();
        CallCommand command = CallEventsProducer.command(ACCOUNT, id, "+919876543298", null, null, 0);
        CallEvent talking = CallEventsProducer.event(command, EventType.STATUS, 3, "in-progress").build();
        CallEvent rejected = CallEventsProducer.event(command, EventType.CANCEL_REJECTED, 4, "in-progress")
                .reason("too_late").build();
        CallEvent completed = CallEventsProducer.event(command, EventType.STATUS, 5, "completed").build();
        CallEvent answered = CallEventsProducer.event(command, EventType.FINAL, 6, "answered").build();

        events.send(talking);
        events.send(rejected);
        await().atMost(WAIT).untilAsserted(() -> {
            HttpResponse<String> found = get("/api/v2/calls/" + id, KEY);
            assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
            assertThat(json(found).get("cancel_rejected_at").isNull()).isFalse();
        });
        assertThat(json(get("/api/v2/calls/" + id, KEY)).get("status").asString()).isEqualTo("in-progress");
        events.send(completed);
        events.send(answered);

        await().atMost(WAIT).untilAsserted(() ->
                assertThat(json(get("/api/v2/calls/" + id, KEY)).get("final_status").asString()).isEqualTo("answered"));
        JsonNode call = json(get("/api/v2/calls/" + id, KEY));
        assertThat(call.get("status").asString()).isEqualTo("answered");
        assertThat(call.get("cancel_rejected_at").isNull()).isFalse();
        assertThat(call.get("attempts").get(0).get("status").asString()).isEqualTo("completed");
    }

    @Test
    void refusesABadFilterNamingIt() throws Exception {
        HttpResponse<String> badStatus = get("/api/v2/calls?status=sleeping", KEY);
        HttpResponse<String> badLimit = get("/api/v2/calls?limit=100000", KEY);
        HttpResponse<String> badCursor = get("/api/v2/calls?cursor=zzz", KEY);

        assertThat(badStatus.statusCode()).isEqualTo(400);
        assertThat(json(badStatus).get("errors").get(0).get("field").asString()).isEqualTo("status");
        assertThat(json(badLimit).get("errors").get(0).get("field").asString()).isEqualTo("limit");
        assertThat(json(badCursor).get("errors").get(0).get("field").asString()).isEqualTo("cursor");
    }
}
