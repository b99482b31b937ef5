package dev.dialer.dispatcher.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.AccountSettings.CallingWindow;
import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DncEntry;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.TestKafka;
import dev.dialer.infra.Infrastructure;
import dev.dialer.simulator.CarrierSimulator;
import dev.dialer.simulator.ReceivedCall;
import dev.dialer.simulator.SimulatorSettings;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.context.Lifecycle;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;

/**
 * The dial-time policy and call controls end to end: DNC entries, account settings and controls published on their
 * compacted topics, commands on {@code dialer.call.commands}, the real carrier simulator over HTTP, events read from
 * {@code dialer.call.events}. Every test uses its own account, so settings and DNC entries never meet.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.config.name=dispatcher-service",
        "dialer.dispatcher.retry.poll-interval=PT0.2S",
        "dialer.dispatcher.retry.minute-length=PT2S",
        "dialer.dispatcher.policy.pause-recheck=PT1H"})
@DirtiesContext
class DialTimePolicyIT {

    private static final String SECRET = "s3cret";
    private static final String CALLER = "+4930555000";
    /** Answered by the simulator (last digit 8); Berlin's time zone. */
    private static final String ANSWERING = "+4915112345678";
    /** Never answered: rings until the request's timeout (last digit 1). */
    private static final String RINGING = "+4915112345671";
    /** Busy (last digit 0). */
    private static final String BUSY = "+4915112345670";
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final Duration WAIT = Duration.ofSeconds(40);

    private static CarrierSimulator simulator;
    private static KafkaProducer<String, String> producer;
    private static EventTail events;

    @LocalServerPort
    int port;

    @Autowired
    DatabaseClient db;

    @Autowired
    MeterRegistry meters;

    @Autowired
    ApplicationContext context;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        Infrastructure.Endpoints infra = Infrastructure.shared();
        if (simulator == null) {
            simulator = CarrierSimulator.start(SimulatorSettings.defaults()
                    .withRingTime(Duration.ofMillis(100))
                    .withTalkTime(Duration.ofMillis(200))
                    .withWebhookSecret(SECRET));
        }
        infra.serviceProperties().forEach((name, value) -> registry.add(name, () -> value));
        registry.add("dialer.kafka.partitions", () -> 3);
        registry.add("dialer.dispatcher.carrier.base-url", simulator::baseUrl);
        registry.add("dialer.dispatcher.carrier.webhook-secret", () -> SECRET);
    }

    @BeforeEach
    void connectToKafka() {
        if (producer == null) {
            String bootstrap = Infrastructure.shared().kafkaBootstrapServers();
            producer = TestKafka.producer(bootstrap);
            events = new EventTail(bootstrap);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        TestKafka.closeAll(producer, events, simulator);
    }

    @Test
    void numberOnTheDncListEndsBlockedAndIsNeverDialled() {
        String account = newAccount();
        String requestId = newRequestId();
        publish(Topics.DNC, DncEntry.key(account, ANSWERING),
                new DncEntry(DncEntry.VERSION, account, ANSWERING, "asked", Instant.now()));
        awaitSeen(() -> views().onDncList(account, ANSWERING));

        produceCommand(requestId, account, ANSWERING, null, null);

        JsonNode last = awaitFinal(requestId);
        assertThat(last.get("status").stringValue()).isEqualTo("blocked");
        assertThat(last.get("error").get("code").stringValue()).isEqualTo("dnc");
        assertThat(events.of(requestId)).hasSize(1);
        assertThat(callsFor(requestId)).isEmpty();
        assertThat(attempts(requestId)).isZero();
        assertThat(decisions("block", "dnc")).isPositive();
    }

    @Test
    void requestWhoseValidUntilPassedEndsExpiredAndIsNeverDialled() {
        String requestId = newRequestId();

        produceCommand(requestId, newAccount(), ANSWERING, null, Instant.now().minusSeconds(60));

        JsonNode last = awaitFinal(requestId);
        assertThat(last.get("status").stringValue()).isEqualTo("expired");
        assertThat(last.get("error").get("code").stringValue()).isEqualTo("valid_until");
        assertThat(callsFor(requestId)).isEmpty();
    }

    @Test
    void callOutsideItsCampaignWindowIsDeferredAndDialledWhenTheWindowOpens() {
        String account = newAccount();
        String requestId = newRequestId();
        // A campaign window that opens a few seconds from now in the callee's time zone (whole seconds, as windows go).
        Instant opens = Instant.now().plusSeconds(6).truncatedTo(ChronoUnit.SECONDS);
        LocalTime start = opens.atZone(BERLIN).toLocalTime();
        publishSettings(account, CallingWindow.ALWAYS, List.of(new AccountSettings.CampaignWindow("evening",
                new CallingWindow(start, start.plusHours(1)))), null);
        awaitSeen(() -> views().settingsOf(account).campaignWindows().size() == 1);

        produceCommand(requestId, account, ANSWERING, "evening", null);

        await().atMost(WAIT).until(() -> !ofType(events.of(requestId), "call.deferred").isEmpty());
        JsonNode deferred = ofType(events.of(requestId), "call.deferred").get(0);
        assertThat(deferred.get("status").stringValue()).isEqualTo("deferred");
        assertThat(deferred.get("reason").stringValue()).isEqualTo("calling_window");
        assertThat(Instant.parse(deferred.get("next_attempt_at").stringValue())).isEqualTo(opens);
        assertThat(scheduleReasons(requestId)).containsExactly("window");

        JsonNode last = awaitFinal(requestId);
        assertThat(last.get("status").stringValue()).isEqualTo("answered");
        assertThat(callsFor(requestId)).hasSize(1);
        JsonNode queued = ofType(events.of(requestId), "call.status").get(0);
        assertThat(queued.get("status").stringValue()).isEqualTo("queued");
        assertThat(Instant.parse(queued.get("occurred_at").stringValue())).isAfterOrEqualTo(opens);
        assertThat(events.of(requestId).get(0).get("event_type").stringValue()).isEqualTo("call.deferred");
        assertIncreasingSequence(events.of(requestId));
    }

    @Test
    void secondCallToACalleeAtItsDailyCapWaitsADayAfterTheFirst() {
        String account = newAccount();
        publishSettings(account, CallingWindow.ALWAYS, List.of(), 1);
        awaitSeen(() -> Integer.valueOf(1).equals(views().settingsOf(account).perCalleeDailyCap()));
        String first = newRequestId();
        String second = newRequestId();
        double deferredBefore = decisions("defer", "callee_cap");

        produceCommand(first, account, ANSWERING, null, null);
        assertThat(awaitFinal(first).get("status").stringValue()).isEqualTo("answered");
        produceCommand(second, account, ANSWERING, null, null);

        await().atMost(WAIT).until(() -> !ofType(events.of(second), "call.deferred").isEmpty());
        JsonNode deferred = ofType(events.of(second), "call.deferred").get(0);
        assertThat(deferred.get("reason").stringValue()).isEqualTo("callee_cap");
        Instant firstDialled = db.sql("SELECT created_at FROM dispatch.attempts WHERE request_id = $1")
                .bind(0, first).map(row -> row.get(0, Instant.class)).one().block(WAIT);
        assertThat(Instant.parse(deferred.get("next_attempt_at").stringValue()))
                .isEqualTo(firstDialled.plus(Duration.ofHours(24)));
        assertThat(scheduleReasons(second)).containsExactly("cap");
        assertThat(callsFor(second)).isEmpty();
        assertThat(decisions("defer", "callee_cap")).isEqualTo(deferredBefore + 1);
    }

    @Test
    void retryFallingDueAfterTheWindowClosedWaitsForTheNextWindow() {
        String account = newAccount();
        String requestId = newRequestId();
        // Open now, closed well before the retry is due (interval 5 × 2 s after the busy attempt ends).
        LocalTime nowInBerlin = Instant.now().atZone(BERLIN).toLocalTime().truncatedTo(ChronoUnit.SECONDS);
        LocalTime start = nowInBerlin.minusHours(1);
        publishSettings(account, new CallingWindow(start, nowInBerlin.plusSeconds(8)), List.of(), null);
        awaitSeen(() -> views().settingsOf(account).callingWindow().start().equals(start));

        produceCommand(requestId, account, BUSY, null, null, 5);

        await().atMost(WAIT).until(() -> !ofType(events.of(requestId), "call.deferred").isEmpty());
        JsonNode busy = ofType(events.of(requestId), "call.status").stream()
                .filter(event -> event.get("status").stringValue().equals("busy")).findFirst().orElseThrow();
        assertThat(busy.get("will_retry").booleanValue()).isTrue();
        JsonNode deferred = ofType(events.of(requestId), "call.deferred").get(0);
        assertThat(deferred.get("attempt").get("number").intValue()).isEqualTo(2);
        assertThat(deferred.get("reason").stringValue()).isEqualTo("calling_window");
        Instant nextAttemptAt = Instant.parse(deferred.get("next_attempt_at").stringValue());
        assertThat(nextAttemptAt).isAfter(Instant.parse(busy.get("next_attempt_at").stringValue()));
        assertThat(nextAttemptAt.atZone(BERLIN).toLocalTime()).isEqualTo(start);
        assertThat(scheduleReasons(requestId)).containsExactly("window");
        assertThat(callsFor(requestId)).hasSize(1);
        assertThat(ofType(events.of(requestId), "call.final")).isEmpty();
    }

    @Test
    void pausedCampaignIsNotDialledUntilResumed() {
        String account = newAccount();
        String requestId = newRequestId();
        publishControl(campaignControl(account, "spring", CallControl.Action.PAUSE));
        awaitSeen(() -> CallControls.paused(views().campaignControl(account, "spring")));

        produceCommand(requestId, account, ANSWERING, "spring", null);

        await().atMost(WAIT).until(() -> !ofType(events.of(requestId), "call.deferred").isEmpty());
        assertThat(ofType(events.of(requestId), "call.deferred").get(0).get("reason").stringValue())
                .isEqualTo("paused");
        assertThat(scheduleReasons(requestId)).containsExactly("paused");
        assertThat(callsFor(requestId)).isEmpty();

        publishControl(campaignControl(account, "spring", CallControl.Action.RESUME));

        assertThat(awaitFinal(requestId).get("status").stringValue()).isEqualTo("answered");
        assertThat(callsFor(requestId)).hasSize(1);
    }

    @Test
    void cancelWhileWaitingEndsCanceledAndTheCallIsNeverDialled() {
        String account = newAccount();
        String requestId = newRequestId();
        // A window that opened an hour ago and closed a minute ago: the next opening is about a day away.
        LocalTime nowInBerlin = Instant.now().atZone(BERLIN).toLocalTime().truncatedTo(ChronoUnit.SECONDS);
        publishSettings(account, new CallingWindow(nowInBerlin.minusHours(1), nowInBerlin.minusMinutes(1)), List.of(),
                null);
        awaitSeen(() -> views().settingsOf(account).callingWindow().end().equals(nowInBerlin.minusMinutes(1)));
        double appliedBefore = controls("applied");

        produceCommand(requestId, account, ANSWERING, null, null);
        await().atMost(WAIT).until(() -> scheduleReasons(requestId).contains("window"));
        publishControl(requestControl(account, requestId));

        JsonNode last = awaitFinal(requestId);
        assertThat(last.get("status").stringValue()).isEqualTo("canceled");
        assertThat(scheduleReasons(requestId)).isEmpty();
        assertThat(callsFor(requestId)).isEmpty();
        assertThat(controls("applied")).isEqualTo(appliedBefore + 1);
    }

    @Test
    void cancelWhileRingingHangsUpAtTheCarrierAndEndsCanceled() {
        String account = newAccount();
        String requestId = newRequestId();
        produceCommand(requestId, account, RINGING, null, null);
        await().atMost(WAIT).until(() -> statuses(requestId).contains("ringing"));

        publishControl(requestControl(account, requestId));

        JsonNode last = awaitFinal(requestId);
        assertThat(last.get("status").stringValue()).isEqualTo("canceled");
        assertThat(statuses(requestId)).endsWith("canceled");
        JsonNode ended = ofType(events.of(requestId), "call.status").stream()
                .filter(event -> event.get("status").stringValue().equals("canceled")).findFirst().orElseThrow();
        assertThat(ended.get("sip_status").intValue()).isEqualTo(487);
        assertThat(ended.get("will_retry").booleanValue()).isFalse();
        assertThat(callsFor(requestId)).hasSize(1);
        // The carrier says the call ended by our cancel, long before its 60 s ring timeout.
        String callSid = callsFor(requestId).get(0).callSid();
        WebTestClient.bindToServer().baseUrl(simulator.baseUrl()).build()
                .get().uri("/v1/Accounts/dialer/Calls/" + callSid).exchange()
                .expectStatus().isOk()
                .expectBody().jsonPath("$.call_status").isEqualTo("no-answer");
    }

    @Test
    void cancelAfterTheFinalChangesNothingAndIsToldTooLate() {
        String account = newAccount();
        String requestId = newRequestId();
        produceCommand(requestId, account, ANSWERING, null, null);
        assertThat(awaitFinal(requestId).get("status").stringValue()).isEqualTo("answered");
        double tooLateBefore = controls("too_late");

        publishControl(requestControl(account, requestId));

        await().atMost(WAIT).until(() -> controls("too_late") > tooLateBefore);
        await().atMost(WAIT).until(() -> !ofType(events.of(requestId), "call.cancel_rejected").isEmpty());
        assertThat(ofType(events.of(requestId), "call.final")).hasSize(1);
        assertThat(ofType(events.of(requestId), "call.cancel_rejected")).singleElement().satisfies(rejected -> {
            assertThat(rejected.get("reason").stringValue()).isEqualTo("too_late");
            assertThat(rejected.get("status").stringValue()).isEqualTo("answered");
        });
    }

    @Test
    void eventsCommittedWhileTheRelayIsStoppedArePublishedLaterOnceEachInOrder() {
        Lifecycle relay = context.getBean("outboxRelayHealthIndicator", Lifecycle.class);
        String requestId = newRequestId();
        relay.stop();
        try {
            produceCommand(requestId, newAccount(), ANSWERING, null, null);
            await().atMost(WAIT).until(() -> pendingFinals(requestId) == 1);
            assertThat(events.of(requestId)).isEmpty();
        } finally {
            relay.start();
        }

        awaitFinal(requestId);
        await().atMost(WAIT).until(() -> unsent(requestId) == 0);
        List<JsonNode> published = events.of(requestId);
        assertThat(published).extracting(event -> event.get("event_id").stringValue()).doesNotHaveDuplicates();
        assertThat(published).extracting(event -> event.get("status").stringValue())
                .containsExactly("queued", "initiated", "ringing", "in-progress", "completed", "answered");
        assertIncreasingSequence(published);
        assertThat(meters.get("dialer.dispatcher.outbox.pending").gauge()).isNotNull();
    }

    @Test
    void readinessIncludesThePolicyViewsAndTheRelay() {
        WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(WAIT).build()
                .get().uri("/actuator/health/readiness").exchange()
                .expectStatus().isOk()
                .expectBody().jsonPath("$.status").isEqualTo("UP");
        assertThat(health("policyViewsHealthIndicator")).isEqualTo(Status.UP);
        assertThat(health("outboxRelayHealthIndicator")).isEqualTo(Status.UP);
        String scrape = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(WAIT).build()
                .get().uri("/actuator/prometheus").exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        assertThat(scrape)
                .contains("dialer_dispatcher_policy_decisions_total{reason=\"calling_window\",verdict=\"defer\"}")
                .contains("dialer_dispatcher_controls_total")
                .contains("dialer_dispatcher_outbox_pending")
                .contains("dialer_dispatcher_outbox_lag_seconds_count")
                .contains("dialer_dispatcher_policy_view_size{view=\"dnc\"}");

        Lifecycle relay = context.getBean("outboxRelayHealthIndicator", Lifecycle.class);
        relay.stop();
        try {
            assertThat(health("outboxRelayHealthIndicator")).isEqualTo(Status.DOWN);
            WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port).responseTimeout(WAIT).build()
                    .get().uri("/actuator/health/readiness").exchange()
                    .expectStatus().isEqualTo(503);
        } finally {
            relay.start();
        }
    }

    private Status health(String indicator) {
        return context.getBean(indicator, HealthIndicator.class).health().getStatus();
    }

    // What the tests share

    private PolicyViews views() {
        return context.getBean(PolicyViews.class);
    }

    private static void awaitSeen(java.util.concurrent.Callable<Boolean> condition) {
        await().atMost(WAIT).until(condition);
    }

    private JsonNode awaitFinal(String requestId) {
        await().atMost(WAIT).until(() -> !ofType(events.of(requestId), "call.final").isEmpty());
        return ofType(events.of(requestId), "call.final").get(0);
    }

    private static List<JsonNode> ofType(List<JsonNode> events, String type) {
        return events.stream().filter(event -> event.get("event_type").stringValue().equals(type)).toList();
    }

    private static List<String> statuses(String requestId) {
        return ofType(events.of(requestId), "call.status").stream()
                .map(event -> event.get("status").stringValue()).toList();
    }

    private static void assertIncreasingSequence(List<JsonNode> events) {
        for (int i = 1; i < events.size(); i++) {
            assertThat(events.get(i).get("sequence_number").longValue())
                    .isGreaterThan(events.get(i - 1).get("sequence_number").longValue());
        }
    }

    private static List<ReceivedCall> callsFor(String requestId) {
        return simulator.calls().stream().filter(call -> requestId.equals(call.tag().get("request_id"))).toList();
    }

    private long attempts(String requestId) {
        return db.sql("SELECT count(*) FROM dispatch.attempts WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    private List<String> scheduleReasons(String requestId) {
        return db.sql("SELECT reason FROM dispatch.schedule WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, String.class)).all().collectList().block(WAIT);
    }

    private long pendingFinals(String requestId) {
        return db.sql("""
                        SELECT count(*) FROM dispatch.outbox
                         WHERE request_id = $1 AND event_type = 'call.final' AND sent_at IS NULL""")
                .bind(0, requestId).map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    private long unsent(String requestId) {
        return db.sql("SELECT count(*) FROM dispatch.outbox WHERE request_id = $1 AND sent_at IS NULL")
                .bind(0, requestId).map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    private double decisions(String verdict, String reason) {
        return meters.counter("dialer.dispatcher.policy.decisions", "verdict", verdict, "reason", reason).count();
    }

    private double controls(String outcome) {
        return meters.counter("dialer.dispatcher.controls", "action", "cancel", "outcome", outcome).count();
    }

    private static String newAccount() {
        return "acc-" + UUID.randomUUID();
    }

    private static String newRequestId() {
        return "it-" + UUID.randomUUID();
    }

    private static void publishSettings(String account, CallingWindow window,
                                        List<AccountSettings.CampaignWindow> campaignWindows, Integer cap) {
        publish(Topics.ACCOUNT_CONFIG, account, new AccountSettings(AccountSettings.VERSION, account, null, window,
                campaignWindows, null, List.of(), cap, Instant.now()));
    }

    private static CallControl requestControl(String account, String requestId) {
        return new CallControl(CallControl.VERSION, UUID.randomUUID().toString(), CallControl.Action.CANCEL,
                CallControl.Scope.REQUEST, account, requestId, null, Instant.now());
    }

    private static CallControl campaignControl(String account, String campaign, CallControl.Action action) {
        return new CallControl(CallControl.VERSION, UUID.randomUUID().toString(), action, CallControl.Scope.CAMPAIGN,
                account, null, campaign, Instant.now());
    }

    private static void publishControl(CallControl control) {
        publish(Topics.CALL_CONTROL, control.key(), control);
    }

    private static void publish(String topic, String key, Object value) {
        send(new ProducerRecord<>(topic, key, Contract.toJson(value)));
    }

    private static void produceCommand(String requestId, String account, String to, String campaign,
                                       Instant validUntil) {
        produceCommand(requestId, account, to, campaign, validUntil, 0);
    }

    private static void produceCommand(String requestId, String account, String to, String campaign,
                                       Instant validUntil, int intervalMinutes) {
        String json = """
                {"version":1,"request_id":"%s","account_id":"%s","caller_id":"%s","to":"%s",
                 "audio":"welcome.wav","interval_minutes":%d,%s%s"created_at":"%s"}""".formatted(requestId, account,
                CALLER, to, intervalMinutes,
                campaign == null ? "" : "\"campaign\":\"" + campaign + "\",",
                validUntil == null ? "" : "\"valid_until\":\"" + validUntil + "\",",
                Instant.now());
        send(new ProducerRecord<>(Topics.CALL_COMMANDS, CALLER, json));
    }

    private static void send(ProducerRecord<String, String> record) {
        try {
            producer.send(record).get();
        } catch (Exception e) {
            throw new IllegalStateException("cannot produce to " + record.topic(), e);
        }
    }

    /** Every call event, read from the beginning on a background thread. */
    private static final class EventTail implements AutoCloseable {

        private final KafkaConsumer<String, String> consumer;
        private final List<ConsumerRecord<String, String>> records =
                new java.util.concurrent.CopyOnWriteArrayList<>();
        private final Thread thread;

        EventTail(String bootstrap) {
            consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ConsumerConfig.GROUP_ID_CONFIG, "it-policy-" + UUID.randomUUID(),
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                    ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                    ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class));
            consumer.subscribe(List.of(Topics.CALL_EVENTS));
            thread = new Thread(this::poll, "it-policy-events");
            thread.setDaemon(true);
            thread.start();
        }

        List<JsonNode> of(String requestId) {
            return records.stream().filter(r -> requestId.equals(r.key()))
                    .map(r -> Contract.mapper().readTree(r.value())).toList();
        }

        private void poll() {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                }
            } catch (org.apache.kafka.common.errors.WakeupException e) {
                // closing
            } finally {
                consumer.close();
            }
        }

        @Override
        public void close() {
            consumer.wakeup();
        }
    }
}
