package dev.dialer.dispatcher.policy;

import static dev.dialer.dispatcher.CallEventsJson.assertStrictlyIncreasingSequence;
import static dev.dialer.dispatcher.CallEventsJson.ofType;
import static dev.dialer.dispatcher.CallEventsJson.statusEvent;
import static dev.dialer.dispatcher.CallEventsJson.statuses;
import static dev.dialer.dispatcher.DispatcherFixture.shortCalls;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.AccountSettings.CallingWindow;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.DncEntry;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.DispatcherFixture;
import dev.dialer.dispatcher.SpiedBeans;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.pacing.Lanes;
import dev.dialer.dispatcher.pacing.TrunkGate;
import dev.dialer.dispatcher.pacing.Trunks;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.context.Lifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Mono;
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
        "dialer.dispatcher.policy.pause-recheck=PT1H",
        "dialer.dispatcher.policy.release-again-after=PT5S"})
@DirtiesContext
class DialTimePolicyIT {

    private static final String SECRET = "s3cret";
    private static final String CALLER = "+4930555000";
    private static final Duration RELEASE_AGAIN_AFTER = Duration.ofSeconds(5);
    /** Answered by the simulator (last digit 8); Berlin's time zone. */
    private static final String ANSWERING = "+4915112345678";
    /** Never answered: rings until the request's timeout (last digit 1). */
    private static final String RINGING = "+4915112345671";
    /** Busy (last digit 0). */
    private static final String BUSY = "+4915112345670";
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
    private static final Duration WAIT = Duration.ofSeconds(40);

    /** Requests whose next hold of an unclaimed attempt is run twice, once: its acknowledgement came too late. */
    private static final Set<String> HOLD_ACKNOWLEDGED_LATE = ConcurrentHashMap.newKeySet();

    /** Requests whose carrier call id PostgreSQL refuses to store, once, for a reason no retry mends. */
    private static final Set<String> CALL_ID_REFUSED = ConcurrentHashMap.newKeySet();

    /**
     * The ledger bean wrapped in a spy that calls the real methods, and for the requests above runs a hold twice or
     * fails the storing of a call id.
     */
    @TestConfiguration
    static class HoldRunTwice {

        @Bean
        static BeanPostProcessor holdRunTwice() {
            return SpiedBeans.around(AttemptLedger.class, invocation -> {
                Object result = invocation.callRealMethod();
                String method = invocation.getMethod().getName();
                String requestId = invocation.getArguments().length > 0
                        && invocation.getArgument(0) instanceof String id ? id : "";
                if (method.equals("holdUnclaimed") && HOLD_ACKNOWLEDGED_LATE.remove(requestId)) {
                    return ((Mono<?>) result).then((Mono<?>) invocation.callRealMethod());
                }
                if (method.equals("storeProviderCallId") && CALL_ID_REFUSED.remove(requestId)) {
                    return Mono.error(new IllegalStateException("the call id is refused"));
                }
                return result;
            });
        }
    }

    @RegisterExtension
    static final DispatcherFixture fixture = DispatcherFixture.carrier(WAIT, shortCalls().withWebhookSecret(SECRET));

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        fixture.register(registry);
    }

    @LocalServerPort
    int port;

    @Autowired
    DatabaseClient db;

    @Autowired
    MeterRegistry meters;

    @Autowired
    ApplicationContext context;

    @Test
    void numberOnTheDncListEndsBlockedAndIsNeverDialled() {
        String account = newAccount();
        String requestId = newRequestId();
        publish(Topics.DNC, DncEntry.key(account, ANSWERING),
                new DncEntry(DncEntry.VERSION, account, ANSWERING, "asked", Instant.now()));
        awaitSeen(() -> views().onDncList(account, ANSWERING));

        produceCommand(requestId, account, ANSWERING, null, null);

        JsonNode last = fixture.awaitEvent(requestId, "call.final");
        assertThat(last.get("status").stringValue()).isEqualTo("blocked");
        assertThat(last.get("error").get("code").stringValue()).isEqualTo("dnc");
        assertThat(fixture.eventsFor(requestId)).hasSize(1);
        assertThat(fixture.callsFor(requestId)).isEmpty();
        assertThat(attempts(requestId)).isZero();
        // Counted once the final is committed, which may be after it is read.
        await().atMost(WAIT).untilAsserted(() -> assertThat(decisions("block", "dnc")).isPositive());
    }

    @Test
    void aCommandRunningAFlowTheAccountMayNotRunEndsBlockedAndIsNeverDialled() {
        String account = newAccount();
        publish(Topics.ACCOUNT_CONFIG, account, new AccountSettings(AccountSettings.VERSION, account, null,
                CallingWindow.ALWAYS, List.of(), null, List.of(), null, Instant.now(), List.of("own-flow")));
        awaitSeen(() -> views().settingsOf(account).allowsFlow("own-flow")
                && !views().settingsOf(account).allowsFlow("other-flow"));
        String otherFlow = newRequestId();
        String otherApplication = newRequestId();
        String otherFlowUnderOwnApplication = newRequestId();
        String hook = newRequestId();
        String ownFlow = newRequestId();

        // Written straight to Kafka, as upstream producers do: no API stood in the way.
        fixture.produce(CALLER, flowCommand(otherFlow, account, "other-flow", Map.of()));
        fixture.produce(CALLER, flowCommand(otherApplication, account, "own-flow",
                Map.of("application_sid", "other-flow")));
        // A SIP trunk is told the flow_id, whatever application_sid the options give the Voice Gateway.
        fixture.produce(CALLER, flowCommand(otherFlowUnderOwnApplication, account, "other-flow",
                Map.of("application_sid", "own-flow")));
        // jambonz runs the request's call_hook when its application_sid is blank.
        fixture.produce(CALLER, flowCommand(hook, account, "own-flow",
                Map.of("application_sid", "", "call_hook", "https://hooks.example.com/other")));
        fixture.produce(CALLER, flowCommand(ownFlow, account, "own-flow", Map.of()));

        for (String requestId : List.of(otherFlow, otherApplication, otherFlowUnderOwnApplication, hook)) {
            JsonNode last = fixture.awaitEvent(requestId, "call.final");
            assertThat(last.get("status").stringValue()).isEqualTo("blocked");
            assertThat(last.get("error").get("code").stringValue()).isEqualTo("flow_not_allowed");
            assertThat(fixture.callsFor(requestId)).isEmpty();
            assertThat(attempts(requestId)).isZero();
        }
        await().atMost(WAIT).until(() -> !fixture.callsFor(ownFlow).isEmpty());
        assertThat(fixture.callsFor(ownFlow).get(0).applicationSid()).isEqualTo("own-flow");
        await().atMost(WAIT).untilAsserted(() -> assertThat(decisions("block", "flow_not_allowed")).isEqualTo(4));
    }

    @Test
    void aCommandWhoseSipHeadersPresentACallerTheAccountMayNotUseEndsBlockedAndIsNeverDialled() {
        String account = newAccount();
        publish(Topics.ACCOUNT_CONFIG, account, new AccountSettings(AccountSettings.VERSION, account, null,
                CallingWindow.ALWAYS, List.of(), null, List.of(CALLER), null, Instant.now()));
        awaitSeen(() -> views().settingsOf(account).allowsCallerId(CALLER)
                && !views().settingsOf(account).allowsCallerId("+4930555999"));
        String presentsAnother = newRequestId();
        String presentsItsOwn = newRequestId();

        // Written straight to Kafka: a caller header a trusted trunk would present as the caller.
        fixture.produce(CALLER, flowCommand(presentsAnother, account, "flow", Map.of("headers",
                Map.of("P-Asserted-Identity", "<sip:+4930555999@sbc.example.com>"))));
        fixture.produce(CALLER, flowCommand(presentsItsOwn, account, "flow", Map.of("headers",
                Map.of("P-Asserted-Identity", "<sip:" + CALLER + "@sbc.example.com>"))));

        JsonNode last = fixture.awaitEvent(presentsAnother, "call.final");
        assertThat(last.get("status").stringValue()).isEqualTo("blocked");
        assertThat(last.get("error").get("code").stringValue()).isEqualTo("caller_id_not_allowed");
        assertThat(fixture.callsFor(presentsAnother)).isEmpty();
        await().atMost(WAIT).until(() -> !fixture.callsFor(presentsItsOwn).isEmpty());
    }

    private static String flowCommand(String requestId, String account, String flowId,
                                      Map<String, Object> carrierOptions) {
        return Contract.toJson(new CallCommand(CallCommand.VERSION, requestId, account, CALLER, ANSWERING, flowId,
                null, null, 0, 0, 1, null, null, Map.of(), null, null, null, null, carrierOptions, Instant.now()));
    }

    @Test
    void aCommandWhoseAttemptWasRecordedButNeverClaimedMeetsThePolicyWhenRedelivered() {
        String account = newAccount();
        CallCommand command = new CallCommand(CallCommand.VERSION, newRequestId(), account, CALLER, ANSWERING, null,
                "welcome.wav", null, 0, 0, 1, null, null, Map.of(), null, null, null, null, Map.of(), Instant.now());
        // Its dispatcher stopped between recording the attempt and claiming it; the callee asked not to be called since.
        AttemptLedger ledger = context.getBean(AttemptLedger.class);
        ledger.recordRequest(command).block(WAIT);
        db.sql("INSERT INTO dispatch.attempts (request_id, attempt_no, status) VALUES ($1, 1, 'queued')")
                .bind(0, command.requestId()).then().block(WAIT);
        publish(Topics.DNC, DncEntry.key(account, ANSWERING),
                new DncEntry(DncEntry.VERSION, account, ANSWERING, "asked", Instant.now()));
        awaitSeen(() -> views().onDncList(account, ANSWERING));

        fixture.produce(CALLER, Contract.toJson(command));

        JsonNode last = fixture.awaitEvent(command.requestId(), "call.final");
        assertThat(last.get("status").stringValue()).isEqualTo("blocked");
        assertThat(fixture.callsFor(command.requestId())).as("never dialled").isEmpty();
    }

    @Test
    void anUnclaimedAttemptWhoseHoldWasAcknowledgedTooLateStillMeetsThePolicy() {
        String account = newAccount();
        CallCommand command = new CallCommand(CallCommand.VERSION, newRequestId(), account, CALLER, ANSWERING, null,
                "welcome.wav", null, 0, 0, 1, null, null, Map.of(), null, null, null, null, Map.of(), Instant.now());
        // Recorded by a dispatcher that stopped before its claim; the callee asked not to be called since. The
        // redelivered command's hold commits, but the dispatcher runs it again (its acknowledgement came too late),
        // and the second run finds the attempt no longer claimable.
        context.getBean(AttemptLedger.class).recordRequest(command).block(WAIT);
        db.sql("INSERT INTO dispatch.attempts (request_id, attempt_no, status) VALUES ($1, 1, 'queued')")
                .bind(0, command.requestId()).then().block(WAIT);
        publish(Topics.DNC, DncEntry.key(account, ANSWERING),
                new DncEntry(DncEntry.VERSION, account, ANSWERING, "asked", Instant.now()));
        awaitSeen(() -> views().onDncList(account, ANSWERING));
        HOLD_ACKNOWLEDGED_LATE.add(command.requestId());

        fixture.produce(CALLER, Contract.toJson(command));

        JsonNode last = fixture.awaitEvent(command.requestId(), "call.final");
        assertThat(HOLD_ACKNOWLEDGED_LATE).as("the hold ran twice").doesNotContain(command.requestId());
        assertThat(last.get("status").stringValue()).isEqualTo("blocked");
        assertThat(fixture.callsFor(command.requestId())).as("never dialled").isEmpty();
    }

    @Test
    void aRecordedButNeverClaimedAttemptThatMustWaitCountsItsWaitForACarrierFromTheWaitsEnd() {
        String account = newAccount();
        Instant opens = Instant.now().plusSeconds(6).truncatedTo(ChronoUnit.SECONDS);
        LocalTime start = opens.atZone(BERLIN).toLocalTime();
        publishSettings(account, CallingWindow.ALWAYS, List.of(new AccountSettings.CampaignWindow("evening",
                new CallingWindow(start, start.plusHours(1)))), null);
        awaitSeen(() -> views().settingsOf(account).campaignWindows().size() == 1);
        CallCommand command = new CallCommand(CallCommand.VERSION, newRequestId(), account, CALLER, ANSWERING, null,
                "welcome.wav", "evening", 0, 0, 1, null, null, Map.of(), null, null, null, null, Map.of(),
                Instant.now());
        // Recorded two hours ago by a dispatcher that stopped before its claim.
        context.getBean(AttemptLedger.class).recordRequest(command).block(WAIT);
        db.sql("""
                        INSERT INTO dispatch.attempts (request_id, attempt_no, status, created_at)
                        VALUES ($1, 1, 'queued', now() - interval '2 hours')""")
                .bind(0, command.requestId()).then().block(WAIT);

        fixture.produce(CALLER, Contract.toJson(command));

        assertThat(fixture.awaitEvent(command.requestId(), "call.deferred").get("reason").stringValue())
                .isEqualTo("calling_window");
        assertThat(fixture.awaitEvent(command.requestId(), "call.final").get("status").stringValue())
                .isEqualTo("answered");
        assertThat(fixture.callsFor(command.requestId())).hasSize(1);
        Instant waitingSince = db.sql("""
                        SELECT COALESCE(waiting_since, created_at) FROM dispatch.attempts WHERE request_id = $1""")
                .bind(0, command.requestId()).map(row -> row.get(0, Instant.class)).one().block(WAIT);
        assertThat(waitingSince).as("a wait for a carrier after the window counts from the window's end, not from "
                + "two hours ago (the carrier-unavailable and capacity limits would end it at once)")
                .isAfterOrEqualTo(opens);
    }

    @Test
    void requestWhoseValidUntilPassedEndsExpiredAndIsNeverDialled() {
        String requestId = newRequestId();

        produceCommand(requestId, newAccount(), ANSWERING, null, Instant.now().minusSeconds(60));

        JsonNode last = fixture.awaitEvent(requestId, "call.final");
        assertThat(last.get("status").stringValue()).isEqualTo("expired");
        assertThat(last.get("error").get("code").stringValue()).isEqualTo("valid_until");
        assertThat(fixture.callsFor(requestId)).isEmpty();
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

        JsonNode deferred = fixture.awaitEvent(requestId, "call.deferred");
        assertThat(deferred.get("status").stringValue()).isEqualTo("deferred");
        assertThat(deferred.get("reason").stringValue()).isEqualTo("calling_window");
        assertThat(Instant.parse(deferred.get("next_attempt_at").stringValue())).isEqualTo(opens);
        assertThat(deferred.has("previous_status")).as("the request's first event").isFalse();
        assertThat(scheduleReasons(requestId)).containsExactly("window");

        JsonNode last = fixture.awaitEvent(requestId, "call.final");
        assertThat(last.get("status").stringValue()).isEqualTo("answered");
        assertThat(fixture.callsFor(requestId)).hasSize(1);
        JsonNode queued = ofType(fixture.eventsFor(requestId), "call.status").get(0);
        assertThat(queued.get("status").stringValue()).isEqualTo("queued");
        assertThat(queued.get("previous_status").stringValue()).isEqualTo("deferred");
        assertThat(Instant.parse(queued.get("occurred_at").stringValue())).isAfterOrEqualTo(opens);
        assertThat(fixture.eventsFor(requestId).get(0).get("event_type").stringValue()).isEqualTo("call.deferred");
        assertStrictlyIncreasingSequence(fixture.eventsFor(requestId));
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
        assertThat(fixture.awaitEvent(first, "call.final").get("status").stringValue()).isEqualTo("answered");
        produceCommand(second, account, ANSWERING, null, null);

        JsonNode deferred = fixture.awaitEvent(second, "call.deferred");
        assertThat(deferred.get("reason").stringValue()).isEqualTo("callee_cap");
        Instant firstDialled = db.sql("SELECT carrier_asked_at FROM dispatch.attempts WHERE request_id = $1")
                .bind(0, first).map(row -> row.get(0, Instant.class)).one().block(WAIT);
        assertThat(Instant.parse(deferred.get("next_attempt_at").stringValue()))
                .isEqualTo(firstDialled.plus(Duration.ofHours(24)));
        assertThat(scheduleReasons(second)).containsExactly("cap");
        assertThat(fixture.callsFor(second)).isEmpty();
        await().atMost(WAIT).untilAsserted(() ->
                assertThat(decisions("defer", "callee_cap")).isEqualTo(deferredBefore + 1));
    }

    @Test
    void aRetryTheCalleesCapWouldHoldPastValidUntilIsNotAnnouncedAndTheRequestExpiresAtOnce() {
        String account = newAccount();
        publishSettings(account, CallingWindow.ALWAYS, List.of(), 1);
        awaitSeen(() -> Integer.valueOf(1).equals(views().settingsOf(account).perCalleeDailyCap()));
        String requestId = newRequestId();

        // Busy, retried 5 × 2 s later, valid for a minute: the cap of one a day would hold the retry for a day.
        produceCommand(requestId, account, BUSY, null, Instant.now().plusSeconds(60), 5);

        JsonNode last = fixture.awaitEvent(requestId, "call.final");
        assertThat(last.get("status").stringValue()).isEqualTo("expired");
        assertThat(last.get("error").get("code").stringValue()).isEqualTo("valid_until");
        assertThat(last.get("error").get("message").stringValue()).contains("daily cap");
        JsonNode busy = statusEvent(fixture.eventsFor(requestId), "busy");
        assertThat(busy.get("will_retry").booleanValue()).isFalse();
        assertThat(busy.hasNonNull("next_attempt_at")).isFalse();
        assertThat(ofType(fixture.eventsFor(requestId), "call.deferred")).isEmpty();
        assertThat(fixture.callsFor(requestId)).hasSize(1);
    }

    @Test
    void aNumberListedWhileItsAttemptRangIsNotRetriedTheRequestEndsBlockedWithTheAttempt() {
        String account = newAccount();
        String requestId = newRequestId();
        double blockedBefore = decisions("block", "dnc");
        // Rings for 3 s, then no answer; retried 5 × 2 s later.
        fixture.produce(CALLER, commandJson(requestId, account, RINGING, null, null, 5)
                .replace("\"interval_minutes\"", "\"carrier_options\":{\"timeout\":3},\"interval_minutes\""));
        await().atMost(WAIT).until(() -> statuses(fixture.eventsFor(requestId)).contains("ringing"));

        publish(Topics.DNC, DncEntry.key(account, RINGING),
                new DncEntry(DncEntry.VERSION, account, RINGING, "asked while it rang", Instant.now()));
        awaitSeen(() -> views().onDncList(account, RINGING));

        JsonNode last = fixture.awaitEvent(requestId, "call.final");
        assertThat(last.get("status").stringValue()).isEqualTo("blocked");
        assertThat(last.get("reason").stringValue()).isEqualTo("dnc");
        assertThat(last.get("error").get("code").stringValue()).isEqualTo("dnc");
        assertThat(last.get("attempt").get("number").intValue()).isEqualTo(1);
        JsonNode unanswered = statusEvent(fixture.eventsFor(requestId), "no-answer");
        assertThat(unanswered.get("will_retry").booleanValue()).isFalse();
        assertThat(unanswered.hasNonNull("next_attempt_at")).isFalse();
        assertThat(scheduleReasons(requestId)).isEmpty();
        assertThat(fixture.callsFor(requestId)).hasSize(1);
        await().atMost(WAIT).untilAsserted(() ->
                assertThat(decisions("block", "dnc")).isEqualTo(blockedBefore + 1));
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

        fixture.awaitEvent(requestId, "call.deferred");
        JsonNode busy = statusEvent(fixture.eventsFor(requestId), "busy");
        assertThat(busy.get("will_retry").booleanValue()).isTrue();
        JsonNode deferred = ofType(fixture.eventsFor(requestId), "call.deferred").get(0);
        assertThat(deferred.get("attempt").get("number").intValue()).isEqualTo(2);
        assertThat(deferred.get("reason").stringValue()).isEqualTo("calling_window");
        assertThat(deferred.get("previous_status").stringValue()).as("the first attempt's end").isEqualTo("busy");
        Instant nextAttemptAt = Instant.parse(deferred.get("next_attempt_at").stringValue());
        assertThat(nextAttemptAt).isAfter(Instant.parse(busy.get("next_attempt_at").stringValue()));
        assertThat(nextAttemptAt.atZone(BERLIN).toLocalTime()).isEqualTo(start);
        assertThat(scheduleReasons(requestId)).containsExactly("window");
        assertThat(fixture.callsFor(requestId)).hasSize(1);
        assertThat(ofType(fixture.eventsFor(requestId), "call.final")).isEmpty();
    }

    @Test
    void pausedCampaignIsNotDialledUntilResumed() {
        String account = newAccount();
        String requestId = newRequestId();
        publishControl(campaignControl(account, "spring", CallControl.Action.PAUSE));
        awaitSeen(() -> CallControls.paused(views().campaignControl(account, "spring")));

        produceCommand(requestId, account, ANSWERING, "spring", null);

        assertThat(fixture.awaitEvent(requestId, "call.deferred").get("reason").stringValue()).isEqualTo("paused");
        assertThat(scheduleReasons(requestId)).containsExactly("paused");
        assertThat(fixture.callsFor(requestId)).isEmpty();

        publishControl(campaignControl(account, "spring", CallControl.Action.RESUME));

        assertThat(fixture.awaitEvent(requestId, "call.final").get("status").stringValue()).isEqualTo("answered");
        assertThat(fixture.callsFor(requestId)).hasSize(1);
    }

    @Test
    void aCallLeftPausedAfterTheResumeWasAppliedIsReleasedWhenTheSettledResumeIsReadAgain() throws Exception {
        String account = newAccount();
        String requestId = newRequestId();
        CallControl resume = pausedThenResumed(account, "autumn");
        // After this dispatcher's own release again (release-again-after), so that only reading it again releases.
        Thread.sleep(RELEASE_AGAIN_AFTER.plusSeconds(2).toMillis());
        // Another dispatcher, its view a moment behind, held a call of the campaign as paused after the release.
        heldAsPaused(requestId, account, "autumn");

        // A dispatcher reads the resume again (it restarted, or its view caught up): settled, it releases again.
        context.getBean(ControlApplier.class).apply(resume).block(WAIT);

        assertThat(fixture.awaitEvent(requestId, "call.final").get("status").stringValue()).isEqualTo("answered");
        assertThat(fixture.callsFor(requestId)).hasSize(1);
    }

    @Test
    void aCallItsGateWroteAsPausedJustAfterTheResumeWasAppliedIsReleasedAgainSoonAfter() {
        String account = newAccount();
        String requestId = newRequestId();
        pausedThenResumed(account, "winter");
        // This dispatcher's gate read the campaign as paused just before the resume reached its view, and wrote the
        // call as paused once the release had run (as pause-recheck, an hour here, would leave it).
        heldAsPaused(requestId, account, "winter");

        // Nothing else reads the resume again: the release once more, release-again-after later, dials it.
        assertThat(fixture.awaitEvent(requestId, "call.final").get("status").stringValue()).isEqualTo("answered");
        assertThat(fixture.callsFor(requestId)).hasSize(1);
    }

    /** The campaign paused, then resumed, and the resume acted on; the resume. */
    private CallControl pausedThenResumed(String account, String campaign) {
        publishControl(campaignControl(account, campaign, CallControl.Action.PAUSE));
        awaitSeen(() -> CallControls.paused(views().campaignControl(account, campaign)));
        CallControl resume = campaignControl(account, campaign, CallControl.Action.RESUME);
        publishControl(resume);
        awaitSeen(() -> resume.controlId().equals(views().campaignControl(account, campaign).controlId()));
        await().atMost(Duration.ofSeconds(30)).until(() -> "applied".equals(db.sql(
                        "SELECT outcome FROM dispatch.applied_controls WHERE control_id = $1")
                .bind(0, resume.controlId()).map(row -> row.get(0, String.class)).one().block(WAIT)));
        return resume;
    }

    /** A call of the campaign recorded and held as paused, looked at again in an hour, as a gate writes it. */
    private void heldAsPaused(String requestId, String account, String campaign) {
        String command = commandJson(requestId, account, ANSWERING, campaign, null, 0);
        assertThat(context.getBean(AttemptLedger.class).record(Contract.read(command.getBytes(StandardCharsets.UTF_8),
                CallCommand.class)).block(WAIT)).isTrue();
        db.sql("""
                        INSERT INTO dispatch.schedule (request_id, attempt_no, due_at, reason, command)
                        VALUES ($1, 1, now() + interval '1 hour', 'paused', $2::jsonb)""")
                .bind(0, requestId)
                .bind(1, command)
                .then().block(WAIT);
    }

    @Test
    void aCallOfAPausedCampaignExpiresAtItsValidUntilThoughTheCampaignIsNeverResumed() {
        String account = newAccount();
        String requestId = newRequestId();
        publishControl(campaignControl(account, "summer", CallControl.Action.PAUSE));
        awaitSeen(() -> CallControls.paused(views().campaignControl(account, "summer")));

        // The pause is looked at again only every hour here: the request's own end comes first.
        produceCommand(requestId, account, ANSWERING, "summer", Instant.now().plusSeconds(4));

        assertThat(fixture.awaitEvent(requestId, "call.deferred").get("reason").stringValue()).isEqualTo("paused");
        JsonNode last = fixture.awaitEvent(requestId, "call.final");
        assertThat(last.get("status").stringValue()).isEqualTo("expired");
        assertThat(last.get("error").get("code").stringValue()).isEqualTo("valid_until");
        assertThat(fixture.callsFor(requestId)).isEmpty();
    }

    @Test
    void aCopyOfADialledCommandThatThePolicyNowRefusesIsADuplicateAndTheLaneGoesOn() {
        String account = newAccount();
        String requestId = newRequestId();
        String command = commandJson(requestId, account, ANSWERING, null, null, 0);
        fixture.produce(CALLER, command);
        assertThat(fixture.awaitEvent(requestId, "call.final").get("status").stringValue()).isEqualTo("answered");
        int events = fixture.eventsFor(requestId).size();
        publish(Topics.DNC, DncEntry.key(account, ANSWERING),
                new DncEntry(DncEntry.VERSION, account, ANSWERING, "asked", Instant.now()));
        awaitSeen(() -> views().onDncList(account, ANSWERING));
        double duplicatesBefore = meters.counter("dialer.dispatcher.commands", "outcome", "duplicate").count();

        // As a redelivery after a rebalance: the attempt was dialled and has ended; the policy would now refuse it.
        fixture.produce(CALLER, command);
        String next = newRequestId();
        fixture.produce(CALLER, commandJson(next, newAccount(), ANSWERING, null, null, 0));

        await().atMost(WAIT).until(() -> meters.counter("dialer.dispatcher.commands", "outcome", "duplicate")
                .count() >= duplicatesBefore + 1);
        assertThat(fixture.awaitEvent(next, "call.final").get("status").stringValue()).isEqualTo("answered");
        assertThat(fixture.eventsFor(requestId)).as("nothing more said of the request").hasSize(events);
        assertThat(fixture.callsFor(requestId)).as("dialled once").hasSize(1);
    }

    @Test
    void aSecondCopyOfAWaitingCommandAnnouncesNoSecondWait() {
        String account = accountWhoseWindowClosedAMinuteAgo();
        String requestId = newRequestId();
        double heldBefore = meters.counter("dialer.dispatcher.commands", "outcome", "held_by_policy").count();
        String command = commandJson(requestId, account, ANSWERING, null, null, 0);

        // As a redelivery after a crash before the offset was committed, or a second owner during a rebalance.
        fixture.produce(CALLER, command);
        fixture.produce(CALLER, command);

        await().atMost(WAIT).until(() -> meters.counter("dialer.dispatcher.commands", "outcome", "held_by_policy")
                .count() >= heldBefore + 2 && unsent(requestId) == 0);
        await().during(Duration.ofSeconds(2)).atMost(WAIT)
                .until(() -> ofType(fixture.eventsFor(requestId), "call.deferred").size() == 1);
        assertThat(scheduleReasons(requestId)).containsExactly("window");
        assertThat(fixture.callsFor(requestId)).isEmpty();
    }

    @Test
    void aCallWhoseHandlingFailedAfterTheCarrierTookItKeepsItsTrunkSlot() {
        String requestId = newRequestId();
        double errorsBefore = meters.counter("dialer.dispatcher.commands", "outcome", "error").count();
        CALL_ID_REFUSED.add(requestId);

        produceCommand(requestId, newAccount(), RINGING, null, null);

        // The carrier has the call, and its dial's job has ended.
        await().atMost(WAIT).until(() -> fixture.callsFor(requestId).size() == 1
                && meters.counter("dialer.dispatcher.commands", "outcome", "error").count() > errorsBefore
                && meters.get("dialer.dispatcher.lanes.dials.in.flight").gauge().value() == 0);
        // Its slot is still taken: released by hand, the trunk's count goes down by one.
        Trunks trunks = context.getBean(Lanes.class).trunks();
        int held = trunks.inFlight();
        trunks.release(TrunkGate.slotKey(requestId, 1), false);
        assertThat(trunks.inFlight()).isEqualTo(held - 1);
    }

    @Test
    void cancelWhileWaitingEndsCanceledAndTheCallIsNeverDialled() {
        String account = accountWhoseWindowClosedAMinuteAgo();
        String requestId = newRequestId();
        double appliedBefore = controls("applied");

        produceCommand(requestId, account, ANSWERING, null, null);
        await().atMost(WAIT).until(() -> scheduleReasons(requestId).contains("window"));
        publishControl(requestControl(account, requestId));

        JsonNode last = fixture.awaitEvent(requestId, "call.final");
        assertThat(last.get("status").stringValue()).isEqualTo("canceled");
        assertThat(last.get("previous_status").stringValue()).isEqualTo("deferred");
        // The wait is dropped and the control counted just after the final event commits.
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(scheduleReasons(requestId)).isEmpty();
            assertThat(controls("applied")).isEqualTo(appliedBefore + 1);
        });
        assertThat(fixture.callsFor(requestId)).isEmpty();

        // The request has ended: the sweep removes its cancel from the topic, and from every view. A cancel of a
        // request the dispatcher has not seen yet stays, for the gate to apply when its command comes.
        String unseen = newRequestId();
        publishControl(requestControl(account, unseen));
        awaitSeen(() -> views().requestControl(unseen) != null);
        context.getBean(CancelSweep.class).sweep().block(WAIT);
        awaitSeen(() -> views().requestControl(requestId) == null);
        await().during(Duration.ofSeconds(2)).atMost(WAIT).until(() -> views().requestControl(unseen) != null);
        assertThat(meters.get("dialer.dispatcher.controls.swept").counter().count()).isPositive();
    }

    @Test
    void aCancelledCampaignsCommandsEndCanceledWithoutPacingAndAreNeverDialled() {
        String account = newAccount();
        // Issued after the commands below are accepted: it covers them.
        CallControl cancel = new CallControl(CallControl.VERSION, UUID.randomUUID().toString(),
                CallControl.Action.CANCEL, CallControl.Scope.CAMPAIGN, account, null, "autumn",
                Instant.now().plus(Duration.ofHours(1)));
        publishControl(cancel);
        awaitSeen(() -> views().campaignControl(account, "autumn") != null);
        double unpacedBefore = meters.counter("dialer.dispatcher.lanes.unpaced", "reason", "canceled", "at",
                "admission").count();
        List<String> cancelled = List.of(newRequestId(), newRequestId(), newRequestId(), newRequestId());
        String other = newRequestId();

        cancelled.forEach(requestId -> produceCommand(requestId, account, ANSWERING, "autumn", null));
        produceCommand(other, account, ANSWERING, "winter", null);

        for (String requestId : cancelled) {
            assertThat(fixture.awaitEvent(requestId, "call.final").get("status").stringValue()).isEqualTo("canceled");
            assertThat(fixture.callsFor(requestId)).as("never dialled").isEmpty();
            assertThat(attempts(requestId)).isZero();
        }
        assertThat(fixture.awaitEvent(other, "call.final").get("status").stringValue()).isEqualTo("answered");
        assertThat(meters.counter("dialer.dispatcher.lanes.unpaced", "reason", "canceled", "at", "admission")
                .count()).isEqualTo(unpacedBefore + cancelled.size());
    }

    @Test
    void cancelWhileRingingHangsUpAtTheCarrierAndEndsCanceled() {
        String account = newAccount();
        String requestId = newRequestId();
        produceCommand(requestId, account, RINGING, null, null);
        await().atMost(WAIT).until(() -> statuses(fixture.eventsFor(requestId)).contains("ringing"));

        publishControl(requestControl(account, requestId));

        JsonNode last = fixture.awaitEvent(requestId, "call.final");
        assertThat(last.get("status").stringValue()).isEqualTo("canceled");
        assertThat(statuses(fixture.eventsFor(requestId))).endsWith("canceled");
        JsonNode ended = statusEvent(fixture.eventsFor(requestId), "canceled");
        assertThat(ended.get("sip_status").intValue()).isEqualTo(487);
        assertThat(ended.get("will_retry").booleanValue()).isFalse();
        assertThat(fixture.callsFor(requestId)).hasSize(1);
        // The carrier says the call ended by our cancel, long before its 60 s ring timeout.
        String callSid = fixture.callsFor(requestId).get(0).callSid();
        WebTestClient.bindToServer().baseUrl(fixture.simulator().baseUrl()).build()
                .get().uri("/v1/Accounts/dialer/Calls/" + callSid).exchange()
                .expectStatus().isOk()
                .expectBody().jsonPath("$.call_status").isEqualTo("no-answer");
    }

    @Test
    void cancelAfterTheFinalChangesNothingAndIsToldTooLate() {
        String account = newAccount();
        String requestId = newRequestId();
        produceCommand(requestId, account, ANSWERING, null, null);
        assertThat(fixture.awaitEvent(requestId, "call.final").get("status").stringValue()).isEqualTo("answered");
        double tooLateBefore = controls("too_late");

        publishControl(requestControl(account, requestId));

        await().atMost(WAIT).until(() -> controls("too_late") > tooLateBefore);
        fixture.awaitEvent(requestId, "call.cancel_rejected");
        assertThat(ofType(fixture.eventsFor(requestId), "call.final")).hasSize(1);
        assertThat(ofType(fixture.eventsFor(requestId), "call.cancel_rejected")).singleElement().satisfies(rejected -> {
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
            assertThat(fixture.eventsFor(requestId)).isEmpty();
        } finally {
            relay.start();
        }

        fixture.awaitEvent(requestId, "call.final");
        await().atMost(WAIT).until(() -> unsent(requestId) == 0);
        List<JsonNode> published = fixture.eventsFor(requestId);
        assertThat(published).extracting(event -> event.get("event_id").stringValue()).doesNotHaveDuplicates();
        assertThat(published).extracting(event -> event.get("status").stringValue())
                .containsExactly("queued", "initiated", "ringing", "in-progress", "completed", "answered");
        assertStrictlyIncreasingSequence(published);
        assertThat(meters.get("dialer.dispatcher.outbox.pending").gauge()).isNotNull();
    }

    @Test
    void eachViewIsFoundCurrentAgainAfterItsTopicIsWritten() throws InterruptedException {
        long since = System.nanoTime();
        Thread.sleep(1_500);
        String account = newAccount();
        publish(Topics.DNC, DncEntry.key(account, ANSWERING),
                new DncEntry(DncEntry.VERSION, account, ANSWERING, "asked", Instant.now()));
        awaitSeen(() -> views().onDncList(account, ANSWERING));

        // Current as of a look that began after the record was written: younger than the time since then.
        for (String view : List.of("dnc", "account-settings", "call-control")) {
            await().atMost(WAIT).until(() -> staleness(view) < (System.nanoTime() - since) / 1e9 - 1.0);
        }
        Object ages = context.getBean("policyViewsHealthIndicator", HealthIndicator.class).health().getDetails()
                .get("staleness-seconds");
        assertThat(ages).isInstanceOf(Map.class);
        assertThat(((Map<?, ?>) ages).keySet()).map(String::valueOf)
                .containsExactly("dnc", "account-settings", "call-control");
    }

    private double staleness(String view) {
        return meters.get("dialer.dispatcher.policy.view.staleness").tag("view", view).gauge().value();
    }

    @Test
    void readinessIncludesThePolicyViewsAndHealthTheRelay() {
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
                .contains("dialer_dispatcher_policy_view_size{view=\"dnc\"}")
                .contains("dialer_dispatcher_policy_view_staleness_seconds{view=\"dnc\"}");

        Lifecycle relay = context.getBean("outboxRelayHealthIndicator", Lifecycle.class);
        relay.stop();
        try {
            assertThat(health("outboxRelayHealthIndicator")).isEqualTo(Status.DOWN);
            WebTestClient client = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port)
                    .responseTimeout(WAIT).build();
            // Every dispatcher shares the outbox: its stall is named in health, and does not make this one unready.
            client.get().uri("/actuator/health").exchange()
                    .expectStatus().isEqualTo(503)
                    .expectBody().jsonPath("$.components.outboxRelay.status").isEqualTo("DOWN");
            client.get().uri("/actuator/health/readiness").exchange()
                    .expectStatus().isOk()
                    .expectBody().jsonPath("$.components.outboxRelay").doesNotExist();
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

    /** A new account whose window opened an hour ago and closed a minute ago: it opens again in about a day. */
    private String accountWhoseWindowClosedAMinuteAgo() {
        String account = newAccount();
        LocalTime nowInBerlin = Instant.now().atZone(BERLIN).toLocalTime().truncatedTo(ChronoUnit.SECONDS);
        publishSettings(account, new CallingWindow(nowInBerlin.minusHours(1), nowInBerlin.minusMinutes(1)), List.of(),
                null);
        awaitSeen(() -> views().settingsOf(account).callingWindow().end().equals(nowInBerlin.minusMinutes(1)));
        return account;
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
        fixture.send(new ProducerRecord<>(topic, key, Contract.toJson(value)));
    }

    private static void produceCommand(String requestId, String account, String to, String campaign,
                                       Instant validUntil) {
        produceCommand(requestId, account, to, campaign, validUntil, 0);
    }

    private static void produceCommand(String requestId, String account, String to, String campaign,
                                       Instant validUntil, int intervalMinutes) {
        fixture.produce(CALLER, commandJson(requestId, account, to, campaign, validUntil, intervalMinutes));
    }

    private static String commandJson(String requestId, String account, String to, String campaign,
                                      Instant validUntil, int intervalMinutes) {
        return """
                {"version":1,"request_id":"%s","account_id":"%s","caller_id":"%s","to":"%s",
                 "audio":"welcome.wav","interval_minutes":%d,%s%s"created_at":"%s"}""".formatted(requestId, account,
                CALLER, to, intervalMinutes,
                campaign == null ? "" : "\"campaign\":\"" + campaign + "\",",
                validUntil == null ? "" : "\"valid_until\":\"" + validUntil + "\",",
                Instant.now());
    }
}
