package dev.dialer.webhook;

import static dev.dialer.webhook.ItFixture.WAIT;
import static dev.dialer.webhook.ItFixture.assertSignedWith;
import static dev.dialer.webhook.ItFixture.attempts;
import static dev.dialer.webhook.ItFixture.command;
import static dev.dialer.webhook.ItFixture.newSecret;
import static dev.dialer.webhook.ItFixture.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.networknt.schema.InputFormat;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.EventType;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.common.contract.ReplayRequest;
import dev.dialer.common.contract.SubscriptionConfig;
import dev.dialer.common.contract.WebhookConfig;
import dev.dialer.common.kafka.InboundRecord;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.KafkaSubscriber;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import dev.dialer.common.trace.TraceParent;
import dev.dialer.infra.Infrastructure;
import dev.dialer.webhook.directory.WebhookDirectory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import reactor.core.Disposable;
import tools.jackson.databind.JsonNode;

/**
 * Subscriptions, secret rotation, the durable disable and its announcement, replay and per-call ordering, against a
 * real Kafka broker, PostgreSQL and HTTP receiver.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "spring.config.name=webhook-service")
@ActiveProfiles("it")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class FanOutIT {

    private static final JsonSchema ATTEMPT_SCHEMA = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012)
            .getSchema(FanOutIT.class.getClassLoader().getResourceAsStream("schemas/delivery-attempt.v1.json"));

    private static WebhookReceiver receiver;
    private static ItFixture fixture;

    @Autowired
    WebhookDirectory directory;
    @Autowired
    DatabaseClient database;
    @Autowired
    MeterRegistry meters;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.shared().serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
    }

    @BeforeAll
    static void start() {
        receiver = WebhookReceiver.start();
        fixture = new ItFixture("fan-out-it");
    }

    @AfterAll
    static void stop() {
        fixture.close();
        receiver.close();
    }

    @Test
    void aWebhookBothNamedAndSubscribedGetsEachEventOnceAndSubscriptionsFilterByType() {
        String account = unique("acc");
        Endpoint named = webhook(account);
        Endpoint finalOnly = webhook(account);
        fixture.publishSubscription(account, named.id(), "call.status", "call.final");
        fixture.publishSubscription(account, finalOnly.id(), "call.final");
        await().atMost(WAIT).until(() -> directory.subscribers(account, "call.final").size() == 2
                && directory.subscribers(account, "call.status").size() == 1);
        String requestId = unique("req");
        CallEvent status = CallEvent.about(command(requestId, account, named.id())).sequence(1)
                .status(AttemptStatus.RINGING).build();
        CallEvent last = CallEvent.about(command(requestId, account, named.id())).sequence(2)
                .type(EventType.FINAL).status(FinalStatus.ANSWERED).build();

        fixture.publishEvents(requestId, List.of(status, last));

        await().atMost(WAIT).until(() -> receiver.at(named.path()).size() == 2
                && receiver.at(finalOnly.path()).size() == 1);
        // A marker on the same call: once it arrives, nothing of the earlier events is still on its way.
        CallEvent marker = CallEvent.about(command(requestId, account, named.id())).sequence(3)
                .type(EventType.FINAL).status(FinalStatus.ANSWERED).build();
        fixture.publishEvents(requestId, List.of(marker));
        await().atMost(WAIT).until(() -> receiver.at(named.path()).size() == 3);
        assertThat(receiver.at(named.path())).extracting(request -> request.header("webhook-id"))
                .containsExactly(status.eventId(), last.eventId(), marker.eventId());
        await().atMost(WAIT).until(() -> receiver.at(finalOnly.path()).size() == 2);
        assertThat(receiver.at(finalOnly.path())).extracting(request -> request.header("webhook-id"))
                .containsExactly(last.eventId(), marker.eventId());
        assertThat(receiver.at(finalOnly.path())).allSatisfy(request -> assertSignedWith(finalOnly.secret(), request));
        assertThat(attempts(database, last.eventId())).containsExactlyInAnyOrder("1:200:delivered",
                "1:200:delivered");
    }

    /**
     * A subscription and its webhook are records of their own: the subscription read first, an event then finds a
     * subscriber the directory does not know yet. Its delivery is kept for a try after the ordering wait, made once
     * the webhook is known, as for a named webhook not known yet.
     */
    @Test
    void anEventForASubscribedWebhookNotKnownYetIsDeliveredOnceItIs() {
        String account = unique("acc");
        String id = unique("wh-late");
        Endpoint late = new Endpoint(id, "hooks/" + id, newSecret());
        fixture.publishSubscription(account, id, "call.status");

        CallEvent event = storedForASubscriberNotKnownYet(account, id);
        fixture.publishWebhook(new WebhookConfig(id, account, receiver.url(late.path()), "test", late.secret(), true,
                Instant.now()));

        await().atMost(WAIT).until(() -> receiver.at(late.path()).size() == 1);
        assertThat(receiver.at(late.path())).singleElement().satisfies(request -> {
            assertThat(request.header("webhook-id")).isEqualTo(event.eventId());
            assertSignedWith(late.secret(), request);
        });
        await().atMost(WAIT).until(() -> ItFixture.retryRows(database, event.eventId()) == 0);
    }

    /**
     * A subscriber's delivery stored for a later try (its webhook not known yet, or a retry) whose subscription is
     * deleted before the try is dropped, not sent: the account no longer wants the event there. Its delivery log shows
     * why; nothing is dead-lettered (there is nothing to replay).
     */
    @Test
    void aStoredDeliveryWhoseSubscriptionIsDeletedBeforeItsTryIsDroppedNotSent() {
        String account = unique("acc");
        String id = unique("wh-late");
        Endpoint late = new Endpoint(id, "hooks/" + id, newSecret());
        String subscription = fixture.publishSubscription(account, id, "call.status");
        CallEvent event = storedForASubscriberNotKnownYet(account, id);

        fixture.publish(Topics.WEBHOOK_CONFIG, subscription, null);
        await().atMost(WAIT).until(() -> directory.subscribers(account, "call.status").isEmpty());
        fixture.publishWebhook(new WebhookConfig(id, account, receiver.url(late.path()), "test", late.secret(), true,
                Instant.now()));

        await().atMost(WAIT).until(() -> ItFixture.retryRows(database, event.eventId()) == 0);
        // Its delivery log's row is written once the stored delivery is removed, in a statement of its own.
        await().atMost(WAIT).until(() -> !refusals(event.eventId()).isEmpty());
        assertThat(refusals(event.eventId())).containsExactly("1:unsubscribed");
        assertThat(ItFixture.deadLetters(database, event.eventId())).isEmpty();
        assertThat(receiver.at(late.path())).isEmpty();
    }

    /**
     * A {@code call.status} of the account, published once the directory knows the webhook's subscription to it (and
     * not the webhook): answers it once its delivery to the webhook is stored for a later try.
     */
    private CallEvent storedForASubscriberNotKnownYet(String account, String webhookId) {
        await().atMost(WAIT).until(() -> directory.subscribers(account, "call.status").contains(webhookId));
        String requestId = unique("req");
        CallEvent event = CallEvent.about(command(requestId, account, null)).sequence(1)
                .status(AttemptStatus.RINGING).build();
        fixture.publishEvents(requestId, List.of(event));
        await().atMost(WAIT).until(() -> ItFixture.retryRows(database, event.eventId()) == 1);
        return event;
    }

    /** "attempt_no:error" of each refused try of the event. */
    private List<String> refusals(String eventId) {
        return database.sql("""
                        SELECT attempt_no, error FROM webhook.delivery_attempts
                        WHERE event_id = :eventId AND outcome = 'refused' ORDER BY id""")
                .bind("eventId", eventId)
                .map(row -> row.get("attempt_no", Integer.class) + ":" + row.get("error", String.class))
                .all()
                .collectList()
                .block(Duration.ofSeconds(10));
    }

    @Test
    void duringASecretRotationEveryDeliveryVerifiesWithEitherSecret() {
        String account = unique("acc");
        String id = unique("wh");
        String current = newSecret();
        String previous = newSecret();
        fixture.publishWebhook(new WebhookConfig(id, account, receiver.url("hooks/" + id), "rotating", current, true,
                Instant.now(), previous, Instant.now().plus(Duration.ofHours(24)), null));
        await().atMost(WAIT).until(() -> directory.current(id) != null);
        String requestId = unique("req");

        fixture.publishEvents(requestId, List.of(CallEvent.about(command(requestId, account, id)).sequence(1)
                .status(AttemptStatus.RINGING).build()));

        await().atMost(WAIT).until(() -> receiver.at("hooks/" + id).size() == 1);
        WebhookReceiver.Received request = receiver.at("hooks/" + id).get(0);
        assertThat(request.header("webhook-signature").split(" ")).hasSize(2);
        assertSignedWith(current, request);
        assertSignedWith(previous, request);
    }

    @Test
    void aGoneWebhookIsDisabledDurablyAnnouncedToSubscribersAndReEnabledByANewerConfiguration() {
        String account = unique("acc");
        Endpoint gone = webhook(account);
        Endpoint watcher = webhook(account);
        fixture.publishSubscription(account, watcher.id(), SubscriptionConfig.WEBHOOK_DISABLED);
        await().atMost(WAIT).until(() -> directory.subscribers(account, SubscriptionConfig.WEBHOOK_DISABLED)
                .contains(watcher.id()));
        receiver.answer(gone.path(), 410);
        String requestId = unique("req");
        CallEvent first = CallEvent.about(command(requestId, account, gone.id())).sequence(1)
                .status(AttemptStatus.RINGING).build();

        fixture.publishEvents(requestId, List.of(first));

        await().atMost(WAIT).until(() -> receiver.at(watcher.path()).size() == 1);
        WebhookReceiver.Received notice = receiver.at(watcher.path()).get(0);
        JsonNode json = Contract.mapper().readTree(notice.body());
        assertThat(json.path("event_type").asString()).isEqualTo(SubscriptionConfig.WEBHOOK_DISABLED);
        assertThat(json.path("webhook_id").asString()).isEqualTo(gone.id());
        assertThat(json.path("reason").asString()).isEqualTo("gone");
        assertSignedWith(watcher.secret(), notice);
        // The disable and its notice commit first; the try's own row is written after.
        await().atMost(WAIT).untilAsserted(() ->
                assertThat(attempts(database, first.eventId())).containsExactly("1:410:dead"));

        // Disabled: the next event is not sent.
        CallEvent refused = CallEvent.about(command(requestId, account, gone.id())).sequence(2)
                .status(AttemptStatus.IN_PROGRESS).build();
        fixture.publishEvents(requestId, List.of(refused));
        await().atMost(WAIT).until(() -> processed(refused.eventId()));
        assertThat(receiver.at(gone.path())).hasSize(1);

        // The customer re-enables it: a newer configuration with enabled=true.
        Instant reEnabled = Instant.now();
        fixture.publishWebhook(new WebhookConfig(gone.id(), account, receiver.url(gone.path()), "test",
                gone.secret(), true, reEnabled));
        await().atMost(WAIT).until(() -> reEnabled.equals(directory.current(gone.id()).updatedAt()));
        CallEvent after = CallEvent.about(command(requestId, account, gone.id())).sequence(3)
                .status(AttemptStatus.COMPLETED).build();
        fixture.publishEvents(requestId, List.of(after));
        await().atMost(WAIT).until(() -> receiver.at(gone.path()).size() == 2);
        assertThat(receiver.at(gone.path()).get(1).header("webhook-id")).isEqualTo(after.eventId());

        // Then the customer replays what it missed: its events, but not the notice about it (it is not subscribed).
        replay(new ReplayRequest(ReplayRequest.VERSION, unique("replay"), account, gone.id(), List.of(),
                first.occurredAt().minusSeconds(1), Instant.now().plusSeconds(1), Instant.now()));
        await().atMost(WAIT).until(() -> replays(after.eventId()) == 1 && pendingFor(gone.id()) == 0);
        assertThat(receiver.at(gone.path())).extracting(request -> request.header("webhook-id"))
                .containsExactlyInAnyOrder(first.eventId(), after.eventId(), first.eventId(), refused.eventId(),
                        after.eventId());
        assertThat(receiver.at(gone.path())).extracting(request -> Contract.mapper().readTree(request.body())
                .path("event_type").asString()).doesNotContain(SubscriptionConfig.WEBHOOK_DISABLED);

        // What api-service reads: every published attempt, the notice's included, keeps the contract.
        assertThat(publishedAttempts(account, 6)).allSatisfy(FanOutIT::assertKeepsItsSchema);
    }

    /** A new webhook of the account, and one event of a new request delivered to it. */
    private Delivered deliveredOnce(String account) {
        Endpoint target = webhook(account);
        String requestId = unique("req");
        CallEvent event = CallEvent.about(command(requestId, account, target.id())).sequence(1)
                .status(AttemptStatus.RINGING).build();
        fixture.publishEvents(requestId, List.of(event));
        await().atMost(WAIT).until(() -> receiver.at(target.path()).size() == 1);
        return new Delivered(target, event);
    }

    private record Delivered(Endpoint target, CallEvent event) {
    }

    @Test
    void aReplayDeliversEventsAgainWithTheirIdsSignedAfreshAndMarkedAsReplays() {
        String account = unique("acc");
        Delivered delivered = deliveredOnce(account);
        Endpoint target = delivered.target();
        CallEvent event = delivered.event();

        // Asked with a trace, as api-service's records are: the replayed delivery is a span of it.
        String trace = UUID.randomUUID().toString().replace("-", "");
        ReplayRequest byIds = new ReplayRequest(ReplayRequest.VERSION, unique("replay"), account, target.id(),
                List.of(event.eventId()), null, null, Instant.now());
        fixture.publish(new OutboundRecord(Topics.WEBHOOK_CONTROL, target.id(), Contract.toBytes(byIds),
                Map.of(TraceParent.HEADER, "00-" + trace + "-b7ad6b7169203331-01")));

        await().atMost(WAIT).until(() -> receiver.at(target.path()).size() == 2);
        assertThat(receiver.at(target.path())).extracting(request -> request.header("webhook-id"))
                .containsOnly(event.eventId());
        assertSignedWith(target.secret(), receiver.at(target.path()).get(1));
        assertThat(receiver.at(target.path()).get(1).header(TraceParent.HEADER))
                .matches("00-" + trace + "-[0-9a-f]{16}-01");
        await().atMost(WAIT).until(() -> replays(event.eventId()) == 1);

        replay(new ReplayRequest(ReplayRequest.VERSION, unique("replay"), account, target.id(), List.of(),
                event.occurredAt().minusSeconds(1), event.occurredAt().plusSeconds(1), Instant.now()));

        await().atMost(WAIT).until(() -> receiver.at(target.path()).size() == 3);
        await().atMost(WAIT).until(() -> replays(event.eventId()) == 2);
        assertThat(receiver.at(target.path()).get(2).header(TraceParent.HEADER)).as("asked without one").isNull();
    }

    @Test
    void aReplayRequestThatIsJsonNullGoesToTheDlqAndTheRequestsAfterItAreReplayed() {
        String account = unique("acc");
        Delivered delivered = deliveredOnce(account);
        Endpoint target = delivered.target();
        CallEvent event = delivered.event();
        double schemaInvalidBefore = dlq("schema_invalid");
        double notJsonBefore = dlq("not_json");

        // One key, so one partition: the request after the null ones is read after them.
        fixture.publish(Topics.WEBHOOK_CONTROL, target.id(), "null".getBytes(StandardCharsets.UTF_8));
        fixture.publish(Topics.WEBHOOK_CONTROL, target.id(), null);
        replay(new ReplayRequest(ReplayRequest.VERSION, unique("replay"), account, target.id(),
                List.of(event.eventId()), null, null, Instant.now()));

        await().atMost(WAIT).until(() -> replays(event.eventId()) == 1);
        List<InboundRecord> published = ItFixture.records(Topics.WEBHOOK_CONTROL, target.id(), 2);
        List<InboundRecord> copies = ItFixture.records(Topics.WEBHOOK_CONTROL_DLQ, target.id(), 2);
        ItFixture.assertCopyOf(published.get(0), copies.get(0), "schema_invalid");
        ItFixture.assertCopyOf(published.get(1), copies.get(1), "not_json");
        assertThat(dlq("schema_invalid")).isGreaterThanOrEqualTo(schemaInvalidBefore + 1);
        assertThat(dlq("not_json")).isGreaterThanOrEqualTo(notJsonBefore + 1);
    }

    @Test
    void aReplayInterruptedByADatabaseFailureStoresTheFailedPageAgainAndQueuesEachEventOnce() {
        String account = unique("acc");
        Endpoint target = webhook(account);
        String requestId = unique("req");
        // Four events: two pages of the "it" profile's three, the failure in the second.
        List<CallEvent> events = IntStream.rangeClosed(1, 4)
                .mapToObj(sequence -> CallEvent.about(command(requestId, account, target.id())).sequence(sequence)
                        .status(AttemptStatus.RINGING).build())
                .toList();
        fixture.publishEvents(requestId, events);
        await().atMost(WAIT).until(() -> receiver.at(target.path()).size() == events.size());
        CallEvent last = events.get(3);

        failFirstRetryInsertOf(last.eventId());
        try {
            replay(new ReplayRequest(ReplayRequest.VERSION, unique("replay"), account, target.id(),
                    events.stream().map(CallEvent::eventId).toList(), null, null, Instant.now()));

            await().atMost(WAIT).until(() -> replays(last.eventId()) == 1 && queued(events) == 0);
        } finally {
            execute("DROP TRIGGER IF EXISTS replay_it_fail_once ON webhook.retries");
        }
        assertThat(received(target)).isEqualTo(times(events, 2));
    }

    @Test
    void aReplayOfSeveralPagesDeliversEachEventOnceAndTheSameRequestReadAgainQueuesNoneOfThemTwice() {
        String account = unique("acc");
        Endpoint target = webhook(account);
        String requestId = unique("req");
        // Two events per instant: a page boundary (every three events in the "it" profile) falls between two events
        // that occurred at the same time.
        Instant start = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        List<CallEvent> events = IntStream.rangeClosed(1, 8)
                .mapToObj(sequence -> CallEvent.about(command(requestId, account, target.id())).sequence(sequence)
                        .status(AttemptStatus.RINGING).occurredAt(start.plusMillis((sequence - 1) / 2)).build())
                .toList();
        fixture.publishEvents(requestId, events);
        await().atMost(WAIT).until(() -> receiver.at(target.path()).size() == events.size());
        ReplayRequest request = new ReplayRequest(ReplayRequest.VERSION, unique("replay"), account, target.id(),
                List.of(), start, start.plusSeconds(1), Instant.now());
        double repeatedBefore = meters.counter("dialer.webhook.replays.repeated").count();

        replay(request);
        await().atMost(WAIT).until(() -> receiver.at(target.path()).size() == 2 * events.size());
        // The same request read again (as after a restart before it was acknowledged), then a request after it on
        // the same partition: once that one is delivered, whatever the first queued again would have been too.
        replay(request);
        CallEvent marker = events.get(0);
        replay(new ReplayRequest(ReplayRequest.VERSION, unique("replay"), account, target.id(),
                List.of(marker.eventId()), null, null, Instant.now()));
        await().atMost(WAIT).until(() -> replays(marker.eventId()) >= 2 && queued(events) == 0);

        Map<String, Long> expected = times(events, 2);
        expected.put(marker.eventId(), 3L);
        assertThat(received(target)).isEqualTo(expected);
        assertThat(meters.counter("dialer.webhook.replays.repeated").count() - repeatedBefore)
                .isEqualTo(events.size());
    }

    /** How many times the target received each event id. */
    private static Map<String, Long> received(Endpoint target) {
        return receiver.at(target.path()).stream()
                .collect(Collectors.groupingBy(request -> request.header("webhook-id"), Collectors.counting()));
    }

    private static Map<String, Long> times(List<CallEvent> events, long times) {
        return events.stream().collect(Collectors.toMap(CallEvent::eventId, event -> times, Long::sum,
                HashMap::new));
    }

    /** PostgreSQL refuses the first row of this event written to webhook.retries, as a lost connection would. */
    private void failFirstRetryInsertOf(String eventId) {
        execute("DROP SEQUENCE IF EXISTS webhook.replay_it_failures");
        execute("CREATE SEQUENCE webhook.replay_it_failures");
        execute("""
                CREATE OR REPLACE FUNCTION webhook.replay_it_fail_once() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF nextval('webhook.replay_it_failures') = 1 THEN
                        RAISE EXCEPTION 'injected failure';
                    END IF;
                    RETURN NEW;
                END $$""");
        execute("DROP TRIGGER IF EXISTS replay_it_fail_once ON webhook.retries");
        execute("CREATE TRIGGER replay_it_fail_once BEFORE INSERT ON webhook.retries FOR EACH ROW"
                + " WHEN (NEW.event_id = '" + eventId + "') EXECUTE FUNCTION webhook.replay_it_fail_once()");
    }

    private void execute(String sql) {
        database.sql(sql).then().block(Duration.ofSeconds(10));
    }

    private long queued(List<CallEvent> events) {
        return database.sql("SELECT count(*) AS n FROM webhook.retries WHERE event_id IN (:ids)")
                .bind("ids", events.stream().map(CallEvent::eventId).toList())
                .map(row -> row.get("n", Long.class))
                .one()
                .block(Duration.ofSeconds(10));
    }

    @Test
    void aLaterEventOfACallWaitsWhileAnEarlierOneIsRetrying() {
        String account = unique("acc");
        Endpoint flaky = webhook(account);
        receiver.answer(flaky.path(), 500, 500);
        String requestId = unique("req");
        CallEvent earlier = CallEvent.about(command(requestId, account, flaky.id())).sequence(1)
                .status(AttemptStatus.RINGING).build();
        CallEvent later = CallEvent.about(command(requestId, account, flaky.id())).sequence(2)
                .status(AttemptStatus.COMPLETED).build();

        fixture.publishEvents(requestId, List.of(earlier, later));

        await().atMost(WAIT).until(() -> receiver.at(flaky.path()).size() == 4);
        assertThat(receiver.at(flaky.path())).extracting(request -> request.header("webhook-id"))
                .containsExactly(earlier.eventId(), earlier.eventId(), earlier.eventId(), later.eventId());
        assertThat(receiver.at(flaky.path())).allSatisfy(request -> assertSignedWith(flaky.secret(), request));
        await().atMost(WAIT).until(() -> attempts(database, earlier.eventId())
                .equals(List.of("1:500:retrying", "2:500:retrying", "3:200:delivered")));
    }

    @Test
    void anEventLargerThanThePayloadCapIsNotSentAndIsDeadLettered() {
        String account = unique("acc");
        Endpoint target = webhook(account);
        String requestId = unique("req");
        CallCommand command = command(requestId, account, target.id());
        CallCommand oversized = new CallCommand(command.version(), requestId, account, command.callerId(),
                command.to(), command.flowId(), null, command.campaign(), 0, 0, 1, target.id(), "x".repeat(20_000),
                Map.of(), null, null, null, null, null, Instant.now());
        CallEvent large = CallEvent.about(oversized).sequence(1).status(AttemptStatus.RINGING).build();
        CallEvent marker = CallEvent.about(command).sequence(2).status(AttemptStatus.COMPLETED).build();

        fixture.publishEvents(requestId, List.of(large, marker));

        await().atMost(WAIT).until(() -> receiver.at(target.path()).size() == 1);
        assertThat(receiver.at(target.path()).get(0).header("webhook-id")).isEqualTo(marker.eventId());
        await().atMost(WAIT).until(() -> attempts(database, large.eventId()).equals(List.of("1:null:refused")));
        assertThat(publishedAttempts(account, 2)).allSatisfy(FanOutIT::assertKeepsItsSchema);
    }

    private record Endpoint(String id, String path, String secret) {
    }

    private Endpoint webhook(String account) {
        String id = unique("wh");
        Endpoint endpoint = new Endpoint(id, "hooks/" + id, newSecret());
        fixture.publishWebhook(new WebhookConfig(id, account, receiver.url(endpoint.path()), "test",
                endpoint.secret(), true, Instant.now()));
        await().atMost(WAIT).until(() -> directory.current(id) != null);
        return endpoint;
    }

    private void replay(ReplayRequest request) {
        fixture.publish(Topics.WEBHOOK_CONTROL, request.webhookId(), Contract.toBytes(request));
    }

    /** Whether the event was kept, which happens when its record is handled. */
    private boolean processed(String eventId) {
        return Boolean.TRUE.equals(database.sql("SELECT EXISTS (SELECT 1 FROM webhook.events WHERE event_id = :id)"
                        + " AS kept")
                .bind("id", eventId)
                .map(row -> row.get("kept", Boolean.class))
                .one()
                .block(Duration.ofSeconds(10)));
    }

    private long pendingFor(String webhookId) {
        return database.sql("SELECT count(*) AS n FROM webhook.retries WHERE target_id = :id")
                .bind("id", webhookId)
                .map(row -> row.get("n", Long.class))
                .one()
                .block(Duration.ofSeconds(10));
    }

    /** The account's attempts on dialer.webhook.deliveries, read from the start, once there are at least so many. */
    private static List<String> publishedAttempts(String account, int atLeast) {
        List<String> found = new CopyOnWriteArrayList<>();
        Disposable reading = KafkaSubscriber.receive(KafkaSettings.of(Infrastructure.shared().kafkaBootstrapServers()),
                        unique("fan-out-it-attempts"), List.of(Topics.WEBHOOK_DELIVERIES), 500)
                .doOnNext(record -> {
                    String json = new String(record.value(), StandardCharsets.UTF_8);
                    if (account.equals(Contract.mapper().readTree(json).path("account_id").asString())) {
                        found.add(json);
                    }
                    record.acknowledge();
                })
                .subscribe();
        try {
            await().atMost(WAIT).until(() -> found.size() >= atLeast);
        } finally {
            reading.dispose();
        }
        return List.copyOf(found);
    }

    private static void assertKeepsItsSchema(String attempt) {
        assertThat(ATTEMPT_SCHEMA.validate(attempt, InputFormat.JSON)).as(attempt).isEmpty();
    }

    private double dlq(String code) {
        Counter counter = meters.find("dialer.webhook.dlq").tag("source", "replays").tag("code", code).counter();
        return counter == null ? 0 : counter.count();
    }

    private long replays(String eventId) {
        return database.sql("SELECT count(*) AS n FROM webhook.delivery_attempts WHERE event_id = :id AND replay")
                .bind("id", eventId)
                .map(row -> row.get("n", Long.class))
                .one()
                .block(Duration.ofSeconds(10));
    }
}
