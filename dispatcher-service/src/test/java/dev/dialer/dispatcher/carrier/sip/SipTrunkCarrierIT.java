package dev.dialer.dispatcher.carrier.sip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.callback.CarrierCallback;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.dispatcher.carrier.CarrierException;
import dev.dialer.dispatcher.carrier.PlacedCall;
import dev.dialer.dispatcher.outcome.OutcomeClassifier;
import dev.dialer.dispatcher.outcome.Verdict;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.dao.TransientDataAccessResourceException;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * {@link SipTrunkCarrier} against sipp acting as the trunk, one UAS scenario per test (the XML files in
 * {@code src/test/resources/sipp}); sipp's exit code says the trunk saw the SIP it expected (ACK, BYE, CANCEL).
 */
class SipTrunkCarrierIT {

    /** A short T1 for a trunk that never answers, so that its Timer B (64 × T1) is 3.2 s, not 32. */
    private static final Duration TIMER_B_T1 = Duration.ofMillis(50);
    private static final Duration WAIT = Duration.ofSeconds(60);
    /** A trunk that answers our CANCEL but never ends the INVITE with its 487. */
    private static final String CANCEL_WITHOUT_487 = """
            <?xml version="1.0" encoding="ISO-8859-1" ?>
            <scenario name="cancel without 487">
              <recv request="INVITE" crlf="true"/>
              <send><![CDATA[
            SIP/2.0 180 Ringing
            [last_Via:]
            [last_From:]
            [last_To:];tag=[pid]SIPpTag01[call_number]
            [last_Call-ID:]
            [last_CSeq:]
            Contact: <sip:[local_ip]:[local_port];transport=[transport]>
            Content-Length: 0

            ]]></send>
              <recv request="CANCEL" timeout="60000"/>
              <send><![CDATA[
            SIP/2.0 200 OK
            [last_Via:]
            [last_From:]
            [last_To:];tag=[pid]SIPpTag01[call_number]
            [last_Call-ID:]
            [last_CSeq:]
            Content-Length: 0

            ]]></send>
            </scenario>
            """;

    /**
     * A trunk that takes our CANCEL but never sends the INVITE's 487; long after we gave the INVITE up, the callee
     * picks up: the INVITE's 200 arrives, which must be acknowledged and the call ended with BYE.
     */
    private static final String ANSWER_AFTER_GIVING_UP = """
            <?xml version="1.0" encoding="ISO-8859-1" ?>
            <scenario name="answer after the call was given up">
              <recv request="INVITE" crlf="true">
                <action>
                  <ereg regexp="[0-9]+ INVITE" search_in="hdr" header="CSeq:" check_it="true" assign_to="invite_cseq"/>
                </action>
              </recv>
              <send><![CDATA[
            SIP/2.0 180 Ringing
            [last_Via:]
            [last_From:]
            [last_To:];tag=[pid]SIPpTag01[call_number]
            [last_Call-ID:]
            [last_CSeq:]
            Contact: <sip:[local_ip]:[local_port];transport=[transport]>
            Content-Length: 0

            ]]></send>
              <recv request="CANCEL" timeout="60000"/>
              <send><![CDATA[
            SIP/2.0 200 OK
            [last_Via:]
            [last_From:]
            [last_To:];tag=[pid]SIPpTag01[call_number]
            [last_Call-ID:]
            [last_CSeq:]
            Content-Length: 0

            ]]></send>
              <pause milliseconds="4000"/>
              <send><![CDATA[
            SIP/2.0 200 OK
            [last_Via:]
            [last_From:]
            [last_To:];tag=[pid]SIPpTag01[call_number]
            [last_Call-ID:]
            CSeq: [$invite_cseq]
            Contact: <sip:[local_ip]:[local_port];transport=[transport]>
            Content-Length: 0

            ]]></send>
              <recv request="ACK" timeout="20000"/>
              <recv request="BYE" timeout="20000"/>
              <send><![CDATA[
            SIP/2.0 200 OK
            [last_Via:]
            [last_From:]
            [last_To:]
            [last_Call-ID:]
            [last_CSeq:]
            Content-Length: 0

            ]]></send>
            </scenario>
            """;

    /**
     * A trunk that takes only an INVITE whose Request-URI is the SIP URI the command named, routed to it loosely, and
     * answers it busy.
     */
    private static final String BUSY_FOR_SIP_URI = """
            <?xml version="1.0" encoding="ISO-8859-1" ?>
            <scenario name="busy for a SIP URI">
              <recv request="INVITE" crlf="true">
                <action>
                  <ereg regexp="^INVITE sip:alice@pbx\\.example\\.com;transport=tcp SIP/2\\.0" search_in="msg"
                        check_it="true" assign_to="request_line"/>
                  <ereg regexp="sip:127\\.0\\.0\\.1:[0-9]+;transport=udp;lr" search_in="hdr" header="Route:"
                        check_it="true" assign_to="route"/>
                  <ereg regexp="sip:alice@pbx\\.example\\.com" search_in="hdr" header="To:" check_it="true"
                        assign_to="to"/>
                </action>
              </recv>
              <send><![CDATA[
            SIP/2.0 486 Busy Here
            [last_Via:]
            [last_From:]
            [last_To:];tag=[pid]SIPpTag01[call_number]
            [last_Call-ID:]
            [last_CSeq:]
            Content-Length: 0

            ]]></send>
              <recv request="ACK" crlf="true"/>
              <Reference variables="request_line,route,to"/>
            </scenario>
            """;

    private final ConcurrentLinkedQueue<CarrierCallback> reported = new ConcurrentLinkedQueue<>();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final MemoryDialogStore dialogs = new MemoryDialogStore();
    private Sipp sipp;
    private SipTrunkCarrier carrier;

    @AfterEach
    void stop() {
        if (carrier != null) {
            carrier.close();
        }
        if (sipp != null) {
            sipp.close();
        }
    }

    @Test
    void answeredCallThatTheTrunkHangsUpEndsCompletedWithItsDuration() throws Exception {
        start("answer-then-hang-up");

        PlacedCall placed = place(Map.of());

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.IN_PROGRESS,
                AttemptStatus.COMPLETED);
        CarrierCallback completed = last();
        assertThat(completed.providerCallId()).isEqualTo(placed.sid());
        assertThat(completed.requestId()).isEqualTo("req-sip");
        assertThat(completed.attempt()).isEqualTo(2);
        assertThat(completed.durationSeconds()).isNotNull().isGreaterThanOrEqualTo(1);
        assertThat(completed.sipStatus()).as("the answer's status, to the call's end").isEqualTo(200);
        // The last status's lag is recorded once its report is done, just after the report itself.
        await().atMost(WAIT).untilAsserted(() -> assertThat(registry.timer("dialer.dispatcher.carrier.callback.lag",
                "carrier", "sip", "kind", "applied").count()).isEqualTo(4));
        assertThat(registry.timer("dialer.dispatcher.carrier.callback.lag", "carrier", "sip",
                "kind", "first_callback").count()).isEqualTo(1);
        assertThat(dialogs.saved()).as("kept before the INVITE, when it rang and when it was answered")
                .containsExactly(SipDialog.State.CALLING, SipDialog.State.EARLY, SipDialog.State.CONFIRMED);
        await().atMost(WAIT).until(() -> dialogs.kept().isEmpty());
        assertThat(registry.timer("dialer.dispatcher.carrier.requests", "carrier", "sip", "outcome", "placed")
                .count()).isEqualTo(1);
        assertThat(sipp.awaitExit(WAIT)).as(sipp.output()).isZero();
    }

    @Test
    void aSessionRefreshAndAnOptionsInsideTheAnsweredCallAreAnsweredAndTheCallGoesOn() throws Exception {
        start("answer-refresh-hang-up");

        place(Map.of());

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.IN_PROGRESS,
                AttemptStatus.COMPLETED);
        assertThat(sipp.awaitExit(WAIT)).as("the re-INVITE got a 200 with our SDP, the OPTIONS a 200: %s",
                sipp.output()).isZero();
    }

    @Test
    void aSecondAnswerFromAForkedInviteIsAcknowledgedAndHungUpWhileTheFirstCallGoesOn() throws Exception {
        start("forked-answers");

        place(Map.of());

        assertThat(sipp.awaitExit(WAIT)).as("the second fork's 200 got an ACK and a BYE of its own: %s",
                sipp.output()).isZero();
        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.IN_PROGRESS,
                AttemptStatus.COMPLETED);
        assertThat(registry.counter("dialer.dispatcher.carrier.sip.forked_answers").count()).isEqualTo(1);
        assertThat(reported).extracting(CarrierCallback::status).as("one attempt, answered once")
                .containsExactly(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.IN_PROGRESS,
                        AttemptStatus.COMPLETED);
    }

    @Test
    void answeredCallIsHungUpWithByeAtItsTimeLimit() throws Exception {
        start("answer-and-stay");

        place(Map.of("timeLimit", 1));

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.IN_PROGRESS,
                AttemptStatus.COMPLETED);
        assertThat(reported).filteredOn(c -> c.status() == AttemptStatus.RINGING).singleElement()
                .satisfies(ringing -> assertThat(ringing.providerStatus()).isEqualTo("early-media"));
        assertThat(sipp.awaitExit(WAIT)).as("sipp received our BYE: %s", sipp.output()).isZero();
    }

    @Test
    void aByeTheTrunkChallengesIsSentAgainWithCredentials() throws Exception {
        start("answer-challenge-bye", "dialer", "s3cret");

        place(Map.of("timeLimit", 1));

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.IN_PROGRESS,
                AttemptStatus.COMPLETED);
        assertThat(sipp.awaitExit(WAIT)).as("sipp received our BYE with its credentials: %s", sipp.output())
                .isZero();
        assertThat(registry.counter("dialer.dispatcher.carrier.sip.bye.challenges", "outcome", "answered").count())
                .isEqualTo(1);
    }

    @Test
    void anAnsweredCallWhoseStateCouldNotBeStoredIsStoredAgainAtTheNextLeaseRenewal() throws Exception {
        // Leases renewed every second; the answered state's writes fail longer than their own brief retries.
        start(Sipp.uas("answer-and-stay"), callback -> Mono.fromRunnable(() -> reported.add(callback)),
                Duration.ofSeconds(3));
        dialogs.failUpdatesOf(SipDialog.State.CONFIRMED, 4);

        // Time enough for the writes to fail and the next renewals to store it before the call ends, on a busy machine.
        PlacedCall placed = place(Map.of("timeLimit", 8));

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.IN_PROGRESS);
        await().atMost(WAIT).untilAsserted(() -> assertThat(dialogs.kept().get(placed.callId()))
                .as("stored as answered while it talks, so a dispatcher taking it over would hang it up")
                .isNotNull().satisfies(kept -> {
                    assertThat(kept.state()).isEqualTo(SipDialog.State.CONFIRMED);
                    assertThat(kept.dial()).as("kept as the dial it is").isEqualTo(1);
                }));
        assertThat(reported).extracting(CarrierCallback::status).doesNotContain(AttemptStatus.COMPLETED);
        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.IN_PROGRESS,
                AttemptStatus.COMPLETED);
        assertThat(registry.counter("dialer.dispatcher.carrier.sip.dialogs.unsaved").count()).isEqualTo(1);
        assertThat(sipp.awaitExit(WAIT)).as("sipp received our BYE: %s", sipp.output()).isZero();
    }

    @Test
    void anAnsweredCallWhoseStateCouldNotBeStoredIsStoredWhenTheCarrierCloses() throws Exception {
        // Leases renewed every 20 s: none comes between the failed write and the close.
        start(Sipp.uas("answer-and-stay"), callback -> Mono.fromRunnable(() -> reported.add(callback)),
                Duration.ofMinutes(1));
        dialogs.failUpdatesOf(SipDialog.State.CONFIRMED, 100);

        PlacedCall placed = place(Map.of("timeLimit", 60));
        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.IN_PROGRESS);
        awaitAnswerUnsaved(placed);

        assertKeptAnsweredWhenClosed(placed);
    }

    @Test
    void anAnsweredCallWhoseStoreAgainWaitsBehindAHangingReportIsStoredWhenTheCarrierCloses() throws Exception {
        // Leases renewed every second; its in-progress status is not applied (Kafka hangs), and a status is given up
        // only after 30 s (a quarter of 64 × T1, taken as 120 s here): the close's settling gives up first.
        start(Sipp.uas("answer-and-stay"), null, null, Duration.ofSeconds(120),
                callback -> callback.status() == AttemptStatus.IN_PROGRESS ? Mono.never()
                        : Mono.fromRunnable(() -> reported.add(callback)), Duration.ofSeconds(3));
        dialogs.failUpdatesOf(SipDialog.State.CONFIRMED, 100);

        PlacedCall placed = place(Map.of("timeLimit", 60));
        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING);
        // Renewals ask for the state to be stored again: the asking waits behind the status that hangs.
        int renewals = dialogs.renewals();
        await().atMost(WAIT).until(() -> dialogs.renewals() >= renewals + 2);
        awaitAnswerUnsaved(placed);

        assertKeptAnsweredWhenClosed(placed);
    }

    /** The call's answer could not be stored: it is kept as it was before. */
    private void awaitAnswerUnsaved(PlacedCall placed) {
        await().atMost(WAIT).until(() -> registry.counter("dialer.dispatcher.carrier.sip.dialogs.unsaved")
                .count() >= 1);
        assertThat(dialogs.kept().get(placed.callId()).state()).isNotEqualTo(SipDialog.State.CONFIRMED);
    }

    /** PostgreSQL is back, and a rollout stops the dispatcher: the call is released kept as answered. */
    private void assertKeptAnsweredWhenClosed(PlacedCall placed) {
        dialogs.failUpdatesOf(SipDialog.State.CONFIRMED, 0);
        carrier.stop();
        carrier.close();

        assertThat(dialogs.kept().get(placed.callId())).as("released as answered: whoever claims it hangs it up")
                .isNotNull().satisfies(kept -> assertThat(kept.state()).isEqualTo(SipDialog.State.CONFIRMED));
    }

    @Test
    void leasesAreRenewedFromTheStopUntilTheClose() throws Exception {
        start(Sipp.uas("answer-and-stay"), callback -> Mono.fromRunnable(() -> reported.add(callback)),
                Duration.ofSeconds(3));

        carrier.stop();
        assertThat(carrier.isRunning()).as("no call taken over any more").isFalse();
        int atStop = dialogs.renewals();
        await().atMost(WAIT).until(() -> dialogs.renewals() >= atStop + 2);

        carrier.close();
        int atClose = dialogs.renewals();
        Thread.sleep(2_500);
        assertThat(dialogs.renewals()).as("none after the close").isEqualTo(atClose);
    }

    @Test
    void aStatusWhoseReportHangsHoldsTheCallsAnswerBackOnlyForAWhile() throws Exception {
        // The ringing status is never applied (Kafka or PostgreSQL hangs without failing); 64 × T1 is taken as 4 s
        // here, so a status is given up after 1 s, and the trunk's 200, which waits behind it, is acknowledged then.
        start(Sipp.uas("answer-then-hang-up"), null, null, Duration.ofSeconds(4), callback ->
                callback.status() == AttemptStatus.RINGING ? Mono.never()
                        : Mono.fromRunnable(() -> reported.add(callback)), Duration.ofSeconds(30));

        place(Map.of());

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.IN_PROGRESS, AttemptStatus.COMPLETED);
        assertThat(sipp.awaitExit(WAIT)).as("sipp had our ACK to its 200 in time: %s", sipp.output()).isZero();
    }

    @Test
    void anEndBeingReportedWhenTheCarrierClosesIsReportedAndItsCallForgotten() throws Exception {
        CountDownLatch reporting = new CountDownLatch(1);
        // The busy end takes a second and a half to apply, and the carrier is closed meanwhile (a rolling restart).
        start(Sipp.uas("busy"), callback -> callback.status() == AttemptStatus.BUSY
                ? Mono.fromRunnable(reporting::countDown).then(Mono.delay(Duration.ofMillis(1_500)))
                        .then(Mono.fromRunnable(() -> reported.add(callback)))
                : Mono.fromRunnable(() -> reported.add(callback)), Duration.ofSeconds(30));

        place(Map.of());
        assertThat(reporting.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        carrier.close();

        assertThat(reported).extracting(CarrierCallback::status)
                .as("its real end, not a restart for whoever takes it over").contains(AttemptStatus.BUSY);
        assertThat(dialogs.kept()).as("forgotten once its end was applied").isEmpty();
        assertThat(sipp.awaitExit(WAIT)).as(sipp.output()).isZero();
    }

    @Test
    void busyCalleeEndsBusyWith486() throws Exception {
        start("busy");

        // The attempt's second dial (the first was requeued after a capacity rejection): its statuses say so.
        assertThat(carrier.place(command(Map.of()), 2).block(WAIT)).isNotNull();

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.BUSY);
        assertThat(reported).extracting(CarrierCallback::dial).containsOnly(2);
        assertThat(last().sipStatus()).isEqualTo(486);
        assertThat(last().sipReason()).isEqualTo("Busy Here");
        assertThat(sipp.awaitExit(WAIT)).as(sipp.output()).isZero();
    }

    @Test
    void anEndTheLedgerCannotTakeDuringAnOutageIsAppliedOnceItRecoversAndTheDialogKeptUntilThen() throws Exception {
        AtomicInteger refusals = new AtomicInteger();
        List<Integer> keptWhileRefused = new CopyOnWriteArrayList<>();
        start(Sipp.uas("busy"), callback -> Mono.defer(() -> {
            if (callback.status() == AttemptStatus.BUSY && refusals.getAndIncrement() < 3) {
                keptWhileRefused.add(dialogs.kept().size());
                return Mono.error(new TransientDataAccessResourceException("PostgreSQL is failing over"));
            }
            reported.add(callback);
            return Mono.empty();
        }), Duration.ofSeconds(30));

        place(Map.of());

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.BUSY);
        assertThat(refusals.get()).isEqualTo(4);
        assertThat(keptWhileRefused).containsExactly(1, 1, 1);
        await().atMost(WAIT).until(() -> dialogs.kept().isEmpty());
        assertThat(sipp.awaitExit(WAIT)).as(sipp.output()).isZero();
    }

    @Test
    void aCallThatCannotBeKeptWithinTheKeepTimeoutIsNotPlacedAndFailsAsUnreachable() throws Exception {
        start("busy");
        dialogs.saveTakes(Duration.ofSeconds(4));

        // keep-timeout 2 s, shorter than the carrier's request timeout: the dial learns that nothing was placed (so the
        // attempt is requeued at once) instead of timing out with its outcome unknown (left to the watchdog).
        assertThatThrownBy(() -> carrier.place(command(Map.of()), 1).block(WAIT))
                .isInstanceOfSatisfying(CarrierException.class, error -> {
                    assertThat(error.reason()).isEqualTo(CarrierException.Reason.UNREACHABLE);
                    assertThat(error.mayHaveBeenPlaced()).isFalse();
                    assertThat(error.getMessage()).contains("within PT2S");
                });

        assertDroppedBeforeItsInvite();
    }

    @Test
    void aCallGivenUpWhileItWasBeingKeptIsNeverInvitedAndLeavesNothingBehind() throws Exception {
        start("busy");
        dialogs.saveTakes(Duration.ofSeconds(2));

        assertThatThrownBy(() -> carrier.place(command(Map.of()), 1).block(Duration.ofMillis(300)))
                .hasMessageContaining("Timeout");

        assertDroppedBeforeItsInvite();
    }

    @Test
    void aCallGivenUpWhileItsInviteWasBeingBuiltIsForgottenAndNeverKept() throws Exception {
        start("busy");
        AtomicReference<Disposable> dial = new AtomicReference<>();
        CountDownLatch subscribed = new CountDownLatch(1);
        // Reading the call's time limit is part of building it, after its INVITE: the caller gives up right there.
        Map<String, Object> options = new HashMap<>() {
            @Override
            public Object get(Object key) {
                if ("timeLimit".equals(key)) {
                    try {
                        subscribed.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    dial.get().dispose();
                }
                return super.get(key);
            }
        };
        CallCommand command = new CallCommand(1, "req-sip", "acc-1", "+4930123456", "+4930654321", "flow-1", null,
                "spring", 0, 3, 2, null, null, Map.of(), null, null, null, null, options, Instant.now());

        dial.set(carrier.place(command, 1).subscribe());
        subscribed.countDown();

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                registry.counter("dialer.dispatcher.carrier.sip.dropped_before_invite").count()).isEqualTo(1));
        assertThat(registry.get("dialer.dispatcher.carrier.sip.calls").gauge().value()).isZero();
        assertThat(dialogs.saved()).as("never kept, so never invited").isEmpty();
        await().during(Duration.ofSeconds(1)).atMost(WAIT).until(reported::isEmpty);
    }

    @Test
    void aCallWhoseInviteTakesLongerThanTheKeepTimeoutToBuildIsNotPlacedAndFailsAsUnreachable() throws Exception {
        start("busy");
        // Building the call (a trunk host looked up slowly, a worker waited for) outlasts keep-timeout (2 s): the dial
        // learns that nothing was placed before the carrier's request timeout could report its outcome unknown.
        Map<String, Object> options = new HashMap<>() {
            @Override
            public Object get(Object key) {
                if ("timeLimit".equals(key)) {
                    try {
                        Thread.sleep(3_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return super.get(key);
            }
        };
        CallCommand command = new CallCommand(1, "req-sip", "acc-1", "+4930123456", "+4930654321", "flow-1", null,
                "spring", 0, 3, 2, null, null, Map.of(), null, null, null, null, options, Instant.now());

        assertThatThrownBy(() -> carrier.place(command, 1).block(WAIT))
                .isInstanceOfSatisfying(CarrierException.class, error -> {
                    assertThat(error.reason()).isEqualTo(CarrierException.Reason.UNREACHABLE);
                    assertThat(error.mayHaveBeenPlaced()).isFalse();
                    assertThat(error.getMessage()).contains("built within PT2S");
                });
        await().atMost(WAIT).untilAsserted(() -> assertThat(
                registry.counter("dialer.dispatcher.carrier.sip.dropped_before_invite").count()).isEqualTo(1));
        assertThat(registry.get("dialer.dispatcher.carrier.sip.calls").gauge().value()).isZero();
        assertThat(dialogs.saved()).as("never kept, so never invited").isEmpty();
    }

    /**
     * The save commits after the dial gave up; the call's row is deleted after it, the call is gone, and nothing was
     * placed, so nothing is reported (an INVITE sent after the save would be reported at once).
     */
    private void assertDroppedBeforeItsInvite() {
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(dialogs.saved()).containsExactly(SipDialog.State.CALLING);
            assertThat(dialogs.kept()).isEmpty();
        });
        assertThat(registry.get("dialer.dispatcher.carrier.sip.calls").gauge().value()).isZero();
        assertThat(registry.counter("dialer.dispatcher.carrier.sip.dropped_before_invite").count()).isEqualTo(1);
        await().during(Duration.ofSeconds(1)).atMost(WAIT).until(reported::isEmpty);
    }

    @Test
    void anInviteTheTrunkNeverAnswersFailsAsTheTrunksFailureAndASilentTrunkIsNotDialledUntilItAnswersAgain()
            throws Exception {
        try (DatagramSocket silentTrunk = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            SipTrunkProperties properties = new SipTrunkProperties(true, "127.0.0.1", silentTrunk.getLocalPort(),
                    "udp", "127.0.0.1", 0, null, null, null, null, 40000, Duration.ofSeconds(60), Duration.ofMinutes(5),
                    2, Duration.ofSeconds(30), 1, Duration.ofMillis(500), Duration.ofSeconds(2), TIMER_B_T1);
            carrier = new SipTrunkCarrier(properties, callback -> Mono.fromRunnable(() -> reported.add(callback)),
                    Clock.systemUTC(), registry, dialogs);
            carrier.start();

            long sent = System.nanoTime();
            PlacedCall first = place(Map.of());

            // Timer B: 64 × T1 (3.2 s with this trunk's T1) after the INVITE, sent again and again without an answer.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(reported)
                    .extracting(CarrierCallback::status).containsExactly(AttemptStatus.INITIATED, AttemptStatus.FAILED));
            CarrierCallback failed = last();
            assertThat(Duration.ofNanos(System.nanoTime() - sent)).as("the trunk's T1 times the INVITE's timers")
                    .isGreaterThanOrEqualTo(TIMER_B_T1.multipliedBy(64));
            assertThat(failed.sipStatus()).isNull();
            assertThat(failed.sipReason()).isEqualTo(SipCall.NO_RESPONSE);
            assertThat(new OutcomeClassifier().classify(failed.status(), failed.sipStatus(), failed.sipReason()))
                    .satisfies(outcome -> {
                        assertThat(outcome.verdict()).isEqualTo(Verdict.RETRYABLE);
                        assertThat(outcome.attemptStatus()).isEqualTo(AttemptStatus.FAILED);
                    });

            // One unanswered INVITE is enough here (silent-after 1): the trunk is silent, and the next call is refused
            // at once as unreachable, so the dispatcher requeues it without using an attempt (or fails it over).
            assertThat(registry.get("dialer.dispatcher.carrier.sip.trunk.silent").gauge().value()).isEqualTo(1);
            assertThatThrownBy(() -> carrier.place(command(Map.of()), 1).block(WAIT))
                    .isInstanceOfSatisfying(CarrierException.class, error -> {
                        assertThat(error.reason()).isEqualTo(CarrierException.Reason.UNREACHABLE);
                        assertThat(error.isTechnical()).as("requeued, or failed over").isTrue();
                        assertThat(error.mayHaveBeenPlaced()).isFalse();
                    });
            assertThat(registry.timer("dialer.dispatcher.carrier.requests", "carrier", "sip",
                    "outcome", "unreachable").count()).isEqualTo(1);

            // The trunk answers one of the OPTIONS sent to it meanwhile: it is heard again, and calls go to it again.
            answerAnOptions(silentTrunk, first.callId());
            await().atMost(WAIT).untilAsserted(() -> assertThat(
                    registry.get("dialer.dispatcher.carrier.sip.trunk.silent").gauge().value()).isZero());
            place(Map.of());
            // The call is placed once its INVITE is sent; its first status is reported just after, on the call's turn.
            await().atMost(WAIT).untilAsserted(() -> assertThat(reported)
                    .filteredOn(callback -> callback.status() == AttemptStatus.INITIATED).hasSize(2));
        }
    }

    @Test
    void aProbeIsAnOptionsThatAnAnswerEndsAndThatFailsOnA5xxOrNoAnswer() throws Exception {
        try (DatagramSocket trunk = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            startAgainst(trunk, null, null, TIMER_B_T1);
            assertThat(carrier.probes()).isTrue();
            // Each OPTIONS is sent again every T1 (50 ms here) until answered: copies of one answered already are
            // passed over.
            Set<String> answered = new HashSet<>();

            for (String answer : List.of("200 OK", "405 Method Not Allowed", "407 Proxy Authentication Required",
                    "503 Maximum Calls In Progress")) {
                CompletableFuture<Void> probed = carrier.probe().toFuture();
                java.net.DatagramPacket options = nextOptions(trunk, answered);
                assertThat(probed).as("until the trunk answers").isNotDone();
                reply(trunk, options, answer, "");
                assertThat(probed.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                        .as("its SIP stack answers, a full trunk too: " + answer).isNull();
            }

            CompletableFuture<Void> refused = carrier.probe().toFuture();
            reply(trunk, nextOptions(trunk, answered), "503 Service Unavailable", "");
            assertThatThrownBy(() -> refused.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .hasCauseInstanceOf(CarrierException.class)
                    .satisfies(failed -> assertThat((CarrierException) failed.getCause()).satisfies(error -> {
                        assertThat(error.reason()).isEqualTo(CarrierException.Reason.REJECTED);
                        assertThat(error.countsAgainstCarrier()).isTrue();
                    }));

            // Never answered: Timer F, 64 × T1 (3.2 s with this trunk's T1), after the OPTIONS sent again and again.
            CompletableFuture<Void> unanswered = carrier.probe().toFuture();
            assertThatThrownBy(() -> unanswered.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                    .hasCauseInstanceOf(CarrierException.class)
                    .satisfies(failed -> assertThat((CarrierException) failed.getCause()).satisfies(error -> {
                        assertThat(error.reason()).isEqualTo(CarrierException.Reason.TIMEOUT);
                        assertThat(error.countsAgainstCarrier()).isTrue();
                    }));
        }
    }

    /** The next OPTIONS to come to a bare UDP "trunk" of a Call-ID not in {@code answered}, which it is added to. */
    private static java.net.DatagramPacket nextOptions(DatagramSocket trunk, Set<String> answered)
            throws java.io.IOException {
        java.net.DatagramPacket options = receive(trunk, text -> text.startsWith("OPTIONS ")
                && !answered.contains(callIdIn(text)), WAIT);
        assertThat(options).as("an OPTIONS to the trunk").isNotNull();
        answered.add(callIdIn(text(options)));
        return options;
    }

    private static String callIdIn(String message) {
        return message.lines().filter(line -> line.regionMatches(true, 0, "Call-ID:", 0, 8))
                .map(line -> line.substring(8).strip()).findFirst().orElse("");
    }

    /**
     * Reads what came to a bare UDP "trunk" until an OPTIONS, and answers it 200 OK; nothing but the first call's INVITE
     * (sent again and again until Timer B) may have come before.
     */
    private static void answerAnOptions(DatagramSocket trunk, String firstCallId) throws java.io.IOException {
        List<String> otherInvites = new ArrayList<>();
        java.net.DatagramPacket options = receive(trunk, text -> {
            if (text.startsWith("INVITE ") && !text.contains(firstCallId)) {
                otherInvites.add(text);
            }
            return text.startsWith("OPTIONS ");
        }, WAIT);
        assertThat(options).as("an OPTIONS to the silent trunk").isNotNull();
        assertThat(otherInvites).as("INVITEs to the silent trunk").isEmpty();
        reply(trunk, options, "200 OK", "");
    }

    @Test
    void anAnswerWhoseAckCouldNotBeSentIsAcknowledgedAndHungUpWhenItComesAgain() throws Exception {
        try (DatagramSocket trunk = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            startAgainst(trunk, null, null);
            place(Map.of());
            java.net.DatagramPacket invite = receive(trunk, text -> text.startsWith("INVITE "), WAIT);
            assertThat(invite).isNotNull();
            // The ACK goes to the answer's Contact, over a transport this stack does not listen on: it cannot be sent.
            String contact = "Contact: <sip:callee@127.0.0.1:1;transport=tcp>\r\n";
            reply(trunk, invite, "200 OK", contact);
            awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.FAILED);
            assertThat(last().sipReason()).startsWith("local SIP error");

            // The trunk, never acknowledged, sends its 200 again until it is (RFC 3261 13.3.1.4); each copy is
            // acknowledged and hung up anew, not taken as the answer already acknowledged.
            await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
                reply(trunk, invite, "200 OK", contact);
                assertThat(registry.counter("dialer.dispatcher.carrier.sip.answered_after_end").count())
                        .isGreaterThanOrEqualTo(2);
            });
        }
    }

    @Test
    void aByeTheTrunkRefusesIsCountedAndAKeepAliveOptionsOutsideAnyCallIsAnswered200() throws Exception {
        try (DatagramSocket trunk = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            startAgainst(trunk, null, null);
            place(Map.of("timeLimit", 1));
            java.net.DatagramPacket invite = receive(trunk, text -> text.startsWith("INVITE "), WAIT);
            assertThat(invite).isNotNull();
            reply(trunk, invite, "200 OK", "Contact: <sip:callee@127.0.0.1:" + trunk.getLocalPort() + ">\r\n");

            // At the time limit our BYE comes; the trunk refuses it, and the call may stay up there.
            java.net.DatagramPacket bye = receive(trunk, text -> text.startsWith("BYE "), WAIT);
            assertThat(bye).as("our BYE at the time limit").isNotNull();
            answerInDialog(trunk, bye, "500 Server Internal Error");
            awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.IN_PROGRESS, AttemptStatus.COMPLETED);
            await().atMost(WAIT).untilAsserted(() -> assertThat(registry.counter(
                    "dialer.dispatcher.carrier.sip.bye.not_taken", "outcome", "refused").count()).isEqualTo(1));
            assertThat(registry.counter("dialer.dispatcher.carrier.sip.bye.not_taken", "outcome", "unanswered")
                    .count()).isZero();

            // A peer's keep-alive, in no call: alive is 200, not 481.
            String options = "OPTIONS sip:dialer@127.0.0.1 SIP/2.0\r\n"
                    + "Via: SIP/2.0/UDP 127.0.0.1:" + trunk.getLocalPort() + ";branch=z9hG4bK-keepalive-1;rport\r\n"
                    + "Max-Forwards: 70\r\nFrom: <sip:trunk@127.0.0.1>;tag=ka1\r\nTo: <sip:dialer@127.0.0.1>\r\n"
                    + "Call-ID: keepalive-1@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
            byte[] bytes = options.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            trunk.send(new java.net.DatagramPacket(bytes, bytes.length, invite.getSocketAddress()));
            java.net.DatagramPacket answer = receive(trunk,
                    text -> text.startsWith("SIP/2.0 ") && text.contains("keepalive-1@127.0.0.1"), WAIT);
            assertThat(answer).as("an answer to the keep-alive").isNotNull();
            assertThat(text(answer)).startsWith("SIP/2.0 200 ");
        }
    }

    @Test
    void anAnswerThatComesAfterTheCallWasGivenUpIsAcknowledgedAndHungUp() throws Exception {
        start(Sipp.uas("answer-after-giving-up", ANSWER_AFTER_GIVING_UP), null, null, Duration.ofSeconds(2));

        place(Map.of("timeout", 1));

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.NO_ANSWER);
        assertThat(sipp.awaitExit(WAIT)).as("sipp got an ACK and a BYE for the late 200: %s", sipp.output()).isZero();
        assertThat(registry.counter("dialer.dispatcher.carrier.sip.answered_after_end").count()).isEqualTo(1);
        assertThat(reported).extracting(CarrierCallback::status).as("the attempt's end stands")
                .containsExactly(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.NO_ANSWER);
    }

    /**
     * The callee picks up while the call's end, given up unanswered, is still being reported (its report slow: a
     * PostgreSQL failover, say): the answer is acknowledged and hung up at once, not queued behind that report with the
     * call's events and dropped with them (the trunk here sends it once).
     */
    @Test
    void anAnswerThatComesWhileTheCallsEndIsBeingReportedIsAcknowledgedAndHungUp() throws Exception {
        start(Sipp.uas("answer-while-the-end-is-reported", ANSWER_AFTER_GIVING_UP), null, null, Duration.ofSeconds(2),
                callback -> callback.status() == AttemptStatus.NO_ANSWER
                        ? Mono.delay(Duration.ofSeconds(6)).doOnNext(late -> reported.add(callback))
                        : Mono.fromRunnable(() -> reported.add(callback)),
                Duration.ofSeconds(30));

        place(Map.of("timeout", 1));

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.NO_ANSWER);
        assertThat(sipp.awaitExit(WAIT)).as("sipp got an ACK and a BYE for the late 200: %s", sipp.output()).isZero();
        assertThat(registry.counter("dialer.dispatcher.carrier.sip.answered_after_end").count()).isEqualTo(1);
    }

    @Test
    void ringingCallIsCancelledAtTheRingTimeoutAndEndsNoAnswer() throws Exception {
        start("ring-until-cancel");

        place(Map.of("timeout", 1));

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.NO_ANSWER);
        assertThat(last().sipStatus()).isEqualTo(487);
        assertThat(sipp.awaitExit(WAIT)).as("sipp received our CANCEL: %s", sipp.output()).isZero();
    }

    @Test
    void anAnswerThatCrossesOurCancelAtTheRingTimeoutIsAnAnsweredCallThatTalksOn() throws Exception {
        start("answer-crossing-cancel");

        place(Map.of("timeout", 1));

        // Neither a no-answer (which would be dialled again) nor cut off: the callee hangs up after a moment.
        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.IN_PROGRESS,
                AttemptStatus.COMPLETED);
        assertThat(last().sipStatus()).isEqualTo(200);
        assertThat(last().durationSeconds()).isNotNull().isGreaterThanOrEqualTo(1);
        assertThat(sipp.awaitExit(WAIT)).as("sipp had our ACK, and our 200 to its BYE: %s", sipp.output()).isZero();
    }

    @Test
    void anAnswerBeforeAnyProvisionalOneAfterTheRingTimeoutFiredIsAnAnsweredCall() throws Exception {
        start("answer-before-any-provisional");

        // The ring timeout fires while no provisional answer has come, so no CANCEL may go out yet; the 200 comes.
        place(Map.of("timeout", 1));

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.IN_PROGRESS, AttemptStatus.COMPLETED);
        assertThat(last().sipStatus()).isEqualTo(200);
        assertThat(sipp.awaitExit(WAIT)).as("sipp had our ACK, and our 200 to its BYE: %s", sipp.output()).isZero();
    }

    @Test
    void ringingCallThatWeHangUpIsCancelledAndEndsCanceled() throws Exception {
        start("ring-until-cancel");
        PlacedCall placed = place(Map.of("timeout", 120));
        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING);

        assertThat(carrier.hangUp(new CallRef("req-sip", 2, placed.sid())).block(WAIT))
                .as("told once the trunk's 487 ended the call: the order taken").isFalse();

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.CANCELED);
        assertThat(last().sipStatus()).isEqualTo(487);
        assertThat(sipp.awaitExit(WAIT)).as(sipp.output()).isZero();
    }

    @Test
    void aHangUpTheCalleesAnswerCrossesIsToldTooLateAndTheCallTalksOn() throws Exception {
        start("answer-crossing-cancel");
        PlacedCall placed = place(Map.of("timeout", 120));
        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING);

        // The cancel of a request: what it came to is what the canceller tells the control (decision 0059).
        assertThat(carrier.hangUp(new CallRef("req-sip", 2, placed.sid())).block(WAIT))
                .as("answered as we cancelled: too late").isTrue();

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.IN_PROGRESS,
                AttemptStatus.COMPLETED);
        assertThat(last().sipStatus()).isEqualTo(200);
        assertThat(sipp.awaitExit(WAIT)).as("sipp had our ACK, and our 200 to its BYE: %s", sipp.output()).isZero();
    }

    @Test
    void cancelAtTheRingTimeoutWhoseInviteNeverGetsItsFinalAnswerEndsNoAnswerAndIsForgotten() throws Exception {
        start(Sipp.uas("cancel-without-487", CANCEL_WITHOUT_487), null, null, Duration.ofSeconds(2));

        PlacedCall placed = place(Map.of("timeout", 1));

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.NO_ANSWER);
        assertThat(last().sipStatus()).as("no 487 came").isNull();
        assertThat(last().sipReason()).isEqualTo("no final answer to our CANCEL");
        await().atMost(WAIT).until(() -> dialogs.kept().isEmpty());
        // Its row goes first, then the call itself.
        await().atMost(WAIT).untilAsserted(() -> assertThat(
                carrier.status(new CallRef("req-sip", 2, placed.sid())).blockOptional(WAIT)).as("forgotten").isEmpty());
        assertThat(sipp.awaitExit(WAIT)).as("sipp received our CANCEL: %s", sipp.output()).isZero();
    }

    @Test
    void hangUpWhoseInviteNeverGetsItsFinalAnswerEndsCanceled() throws Exception {
        start(Sipp.uas("cancel-without-487", CANCEL_WITHOUT_487), null, null, Duration.ofSeconds(2));
        PlacedCall placed = place(Map.of("timeout", 120));
        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING);

        carrier.hangUp(new CallRef("req-sip", 2, placed.sid())).block(WAIT);

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.CANCELED);
        await().atMost(WAIT).until(() -> dialogs.kept().isEmpty());
        assertThat(sipp.awaitExit(WAIT)).as("sipp received our CANCEL: %s", sipp.output()).isZero();
    }

    @Test
    void unavailableTrunkEndsFailedWith503() throws Exception {
        start("unavailable");

        place(Map.of());

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.FAILED);
        assertThat(last().sipStatus()).isEqualTo(503);
        assertThat(last().sipReason()).isEqualTo("Service Unavailable");
        assertThat(sipp.awaitExit(WAIT)).as(sipp.output()).isZero();
    }

    @Test
    void accountLimitRefusalNamesTheCallLimitSoItClassifiesAsCapacity() throws Exception {
        start("account-limit");

        place(Map.of());

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.FAILED);
        assertThat(last().sipStatus()).isEqualTo(503);
        assertThat(last().sipReason()).isEqualTo("Max Account Calls In Progress (X-Call-Limit: 20)");
        assertThat(new OutcomeClassifier().classify(last().status(), last().sipStatus(), last().sipReason()).verdict())
                .isEqualTo(Verdict.CAPACITY);
        assertThat(sipp.awaitExit(WAIT)).as(sipp.output()).isZero();
    }

    @Test
    void trunkThatAsksForDigestCredentialsGetsThemOnTheRepeatedInvite() throws Exception {
        start("challenge-then-busy", "dialer", "s3cret");

        place(Map.of());

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.BUSY);
        assertThat(last().sipStatus()).as("486 means the trunk accepted the credentials, 403 that it did not")
                .isEqualTo(486);
        assertThat(sipp.awaitExit(WAIT)).as(sipp.output()).isZero();
    }

    @Test
    void theInviteWithCredentialsGoesOutOnlyOnceItIsKept() throws Exception {
        try (DatagramSocket trunk = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            startAgainst(trunk, "dialer", "s3cret");
            dialogs.holdSavesFrom(2); // the first INVITE's state is the first save; the one with credentials the second

            place(Map.of());
            challengeTheInvite(trunk);

            // Until the state naming it (its branch and CSeq) is kept, the INVITE with credentials is not sent.
            assertThat(receive(trunk, SipTrunkCarrierIT::withCredentials, Duration.ofSeconds(1)))
                    .as("an INVITE sent before it was kept").isNull();
            assertThat(dialogs.saved()).containsExactly(SipDialog.State.CALLING);
            dialogs.releaseHeldSaves();

            assertThat(receive(trunk, SipTrunkCarrierIT::withCredentials, WAIT)).isNotNull();
            assertThat(dialogs.saved()).containsExactly(SipDialog.State.CALLING, SipDialog.State.CALLING);
        }
    }

    @Test
    void anAnswerIsAcknowledgedOnlyOnceItIsKeptAsAnswered() throws Exception {
        try (DatagramSocket trunk = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            startAgainst(trunk, null, null);
            dialogs.holdSavesFrom(2); // the INVITE's state is the first save; the answer's the second
            place(Map.of("timeLimit", 1));
            java.net.DatagramPacket invite = receive(trunk, text -> text.startsWith("INVITE "), WAIT);
            assertThat(invite).isNotNull();

            reply(trunk, invite, "200 OK", "Contact: <sip:callee@127.0.0.1:" + trunk.getLocalPort() + ">\r\n");

            // Acknowledged, the trunk never sends its 200 again: a dispatcher taking over a call kept as ringing
            // would cancel it, which does nothing to an answered call, instead of hanging it up.
            assertThat(receive(trunk, text -> text.startsWith("ACK "), Duration.ofMillis(700)))
                    .as("an ACK sent before the answer was kept").isNull();
            assertThat(dialogs.saved()).containsExactly(SipDialog.State.CALLING);
            assertThat(reported).extracting(CarrierCallback::status).containsExactly(AttemptStatus.INITIATED);
            dialogs.releaseHeldSaves();

            assertThat(receive(trunk, text -> text.startsWith("ACK "), WAIT)).isNotNull();
            assertThat(dialogs.saved()).containsExactly(SipDialog.State.CALLING, SipDialog.State.CONFIRMED);
            java.net.DatagramPacket bye = receive(trunk, text -> text.startsWith("BYE "), WAIT);
            assertThat(bye).as("our BYE at the time limit").isNotNull();
            answerInDialog(trunk, bye, "200 OK");
            awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.IN_PROGRESS, AttemptStatus.COMPLETED);
        }
    }

    @Test
    void aCallGivenUpWhileItsInviteWithCredentialsWasBeingKeptIsNeverInvitedAgain() throws Exception {
        try (DatagramSocket trunk = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            startAgainst(trunk, "dialer", "s3cret");
            dialogs.holdSavesFrom(2);

            place(Map.of("timeout", 1));
            challengeTheInvite(trunk);
            Thread.sleep(3_000); // the ring timeout (1 s) passes while the INVITE with credentials waits to be kept
            dialogs.releaseHeldSaves();

            awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.NO_ANSWER);
            assertThat(last().sipStatus()).isNull();
            assertThat(last().sipReason()).contains("before the INVITE with credentials was sent");
            assertThat(receive(trunk, SipTrunkCarrierIT::withCredentials, Duration.ofSeconds(1)))
                    .as("no INVITE after the call was given up").isNull();
        }
    }

    /** The carrier against a bare UDP "trunk", with digest credentials when {@code username} is not null. */
    private void startAgainst(DatagramSocket trunk, String username, String password) {
        startAgainst(trunk, username, password, Duration.ofMillis(500));
    }

    private void startAgainst(DatagramSocket trunk, String username, String password, Duration t1) {
        SipTrunkProperties properties = new SipTrunkProperties(true, "127.0.0.1", trunk.getLocalPort(), "udp",
                "127.0.0.1", 0, null, username, password, null, 40000, Duration.ofSeconds(60), Duration.ofMinutes(5),
                2, Duration.ofSeconds(30), 3, Duration.ofSeconds(10), Duration.ofSeconds(2), t1);
        carrier = new SipTrunkCarrier(properties, callback -> Mono.fromRunnable(() -> reported.add(callback)),
                Clock.systemUTC(), registry, dialogs, Duration.ofSeconds(32));
        carrier.start();
    }

    /** The trunk's 401 to the first INVITE. */
    private static void challengeTheInvite(DatagramSocket trunk) throws java.io.IOException {
        java.net.DatagramPacket invite = receive(trunk, text -> text.startsWith("INVITE "), WAIT);
        assertThat(invite).isNotNull();
        reply(trunk, invite, "401 Unauthorized",
                "WWW-Authenticate: Digest realm=\"trunk.example\", nonce=\"4e6f6e6365\", algorithm=MD5\r\n");
    }

    private static boolean withCredentials(String request) {
        return request.startsWith("INVITE ") && request.contains("Authorization: Digest");
    }

    /** The next request to a bare UDP "trunk" that is {@code wanted}, skipping others; null when none comes in time. */
    private static java.net.DatagramPacket receive(DatagramSocket trunk,
                                                   java.util.function.Predicate<String> wanted, Duration within)
            throws java.io.IOException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            trunk.setSoTimeout((int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            java.net.DatagramPacket packet = new java.net.DatagramPacket(new byte[65535], 65535);
            try {
                trunk.receive(packet);
            } catch (java.net.SocketTimeoutException e) {
                return null;
            }
            if (wanted.test(text(packet))) {
                return packet;
            }
        }
        return null;
    }

    private static String text(java.net.DatagramPacket packet) {
        return new String(packet.getData(), 0, packet.getLength(), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Answers a request inside a call a bare UDP "trunk" answered: its headers as they came (its To has a tag). */
    private static void answerInDialog(DatagramSocket trunk, java.net.DatagramPacket request, String status)
            throws java.io.IOException {
        StringBuilder response = new StringBuilder("SIP/2.0 " + status + "\r\n");
        for (String line : text(request).split("\r\n")) {
            String name = line.contains(":") ? line.substring(0, line.indexOf(':')).strip().toLowerCase() : "";
            if (List.of("via", "from", "to", "call-id", "cseq").contains(name)) {
                response.append(line).append("\r\n");
            }
        }
        byte[] answer = response.append("Content-Length: 0\r\n\r\n").toString()
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        trunk.send(new java.net.DatagramPacket(answer, answer.length, request.getSocketAddress()));
    }

    /** Answers a request received by a bare UDP "trunk": its Via, From, To (with a tag), Call-ID and CSeq. */
    private static void reply(DatagramSocket trunk, java.net.DatagramPacket request, String status, String headers)
            throws java.io.IOException {
        StringBuilder response = new StringBuilder("SIP/2.0 " + status + "\r\n");
        for (String line : text(request).split("\r\n")) {
            String name = line.contains(":") ? line.substring(0, line.indexOf(':')).strip().toLowerCase() : "";
            if (name.equals("to")) {
                response.append(line).append(";tag=trunk\r\n");
            } else if (List.of("via", "from", "call-id", "cseq").contains(name)) {
                response.append(line).append("\r\n");
            }
        }
        byte[] answer = response.append(headers).append("Content-Length: 0\r\n\r\n").toString()
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        trunk.send(new java.net.DatagramPacket(answer, answer.length, request.getSocketAddress()));
    }

    @Test
    void ringTimeoutBeforeTheInviteWithCredentialsGetsAProvisionalAnswerWaitsForItBeforeCancelling()
            throws Exception {
        start("challenge-then-slow-ringing", "dialer", "s3cret");

        place(Map.of("timeout", 1));

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.NO_ANSWER);
        assertThat(last().sipStatus()).isEqualTo(487);
        assertThat(sipp.awaitExit(WAIT))
                .as("sipp received our CANCEL only after its 180 to the INVITE with credentials: %s", sipp.output())
                .isZero();
    }

    @Test
    void challengeThatComesAfterTheRingTimeoutEndsTheCallNoAnswerWithoutInvitingAgain() throws Exception {
        start("slow-challenge", "dialer", "s3cret");

        place(Map.of("timeout", 1));

        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.NO_ANSWER);
        assertThat(last().sipStatus()).isEqualTo(407);
        assertThat(sipp.awaitExit(WAIT)).as("sipp received no INVITE with credentials: %s", sipp.output()).isZero();
    }

    @Test
    void ringingCallTakenOverAgainWhileItsCancelIsStillUnderWayIsEndedWithoutSendingItAgain() throws Exception {
        AtomicInteger applied = new AtomicInteger();
        start(Sipp.uas("answer-cancel"), callback -> Mono.defer(() -> applied.incrementAndGet() == 1
                ? Mono.error(new IllegalStateException("the ledger could not be written"))
                : Mono.fromRunnable(() -> reported.add(callback))), Duration.ofSeconds(3));
        SipDialog orphan = new SipDialog("taken-over-1@127.0.0.1", "req-sip", 2, 3,
                "127.0.0.1:" + sipp.port() + "/udp", SipDialog.State.EARLY, "sip:+4930654321@127.0.0.1:" + sipp.port(),
                "z9hG4bKtakenover1", "127.0.0.1", carrier.localPort(), "sip:+4930123456@127.0.0.1", "from-1",
                "sip:+4930654321@127.0.0.1", "to-1", null, List.of(), 1, null);

        // Its first recovery sends the CANCEL but cannot report the attempt, so it gives the call up; the next tick
        // takes it over again while that CANCEL's transaction still lives.
        dialogs.leave(orphan);

        await().atMost(WAIT).until(() -> !dialogs.kept().containsKey(orphan.callId()) || dialogs.releases() > 1);
        assertThat(dialogs.releases()).as("given up once, by the recovery whose report failed").isEqualTo(1);
        assertThat(dialogs.kept()).as("forgotten once reported").doesNotContainKey(orphan.callId());
        assertThat(reported).extracting(CarrierCallback::status).containsExactly(AttemptStatus.FAILED);
        assertThat(last().errorCode()).isEqualTo(SipTrunkCarrier.DISPATCHER_RESTART);
        assertThat(last().dial()).as("the dial it was kept as").isEqualTo(3);
        assertThat(last().providerCallId()).isEqualTo(orphan.callId());
        assertThat(last().takenOver()).as("about that call only").isTrue();
        assertThat(sipp.awaitExit(WAIT)).as("sipp received our CANCEL: %s", sipp.output()).isZero();
        await().atMost(WAIT).until(() -> registry.counter("dialer.dispatcher.carrier.sip.recovered.cancels",
                "outcome", "accepted").count() == 1);
    }

    @Test
    void aTakeoverWhoseReportHangsNeitherHoldsBackTheLeasesOfTheCallsRunningHereNorKeepsItsClaim() throws Exception {
        // Reports of taken-over calls never complete (Kafka away while another dispatcher owns their caller IDs).
        start(Sipp.uas("answer-cancel"), callback -> callback.takenOver() ? Mono.never()
                : Mono.fromRunnable(() -> reported.add(callback)), Duration.ofSeconds(3));
        SipDialog orphan = new SipDialog("taken-over-2@127.0.0.1", "req-sip", 2, 1,
                "127.0.0.1:" + sipp.port() + "/udp", SipDialog.State.EARLY, "sip:+4930654321@127.0.0.1:" + sipp.port(),
                "z9hG4bKtakenover2", "127.0.0.1", carrier.localPort(), "sip:+4930123456@127.0.0.1", "from-2",
                "sip:+4930654321@127.0.0.1", "to-2", null, List.of(), 1, null);
        await().atMost(WAIT).until(() -> dialogs.renewals() >= 1);

        dialogs.leave(orphan);

        int renewedBefore = dialogs.renewals();
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(dialogs.renewals()).as("renewed every second while the takeover waits for its report")
                    .isGreaterThanOrEqualTo(renewedBefore + 3);
            assertThat(dialogs.releases()).as("the claim given up at half the lease, for another try")
                    .isPositive();
        });
    }

    @Test
    void statusOfACallInFlightIsWhatTheCarrierLastSaw() throws Exception {
        start("ring-until-cancel");
        PlacedCall placed = place(Map.of("timeout", 2));
        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING);

        assertThat(carrier.status(new CallRef("req-sip", 2, placed.sid())).block(WAIT))
                .satisfies(report -> assertThat(report.status()).isIn(AttemptStatus.RINGING, AttemptStatus.NO_ANSWER));
        assertThat(carrier.status(new CallRef("req-sip", 2, "never-placed")).blockOptional(WAIT)).isEmpty();
        awaitStatuses(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.NO_ANSWER);
    }

    @Test
    void aSipUriTargetIsTheInvitesRequestUriWhileTheTrunkStaysTheNextHop() throws Exception {
        start(Sipp.uas("busy-for-sip-uri", BUSY_FOR_SIP_URI), null, null, Duration.ofSeconds(32));

        PlacedCall placed = carrier.place(command("sip:alice@pbx.example.com;transport=tcp", Map.of()), 1)
                .block(WAIT);

        assertThat(placed).isNotNull();
        await().atMost(WAIT).until(() -> reported.stream().anyMatch(c -> c.status().isTerminal()));
        assertThat(sipp.awaitExit(WAIT)).as("sipp saw the URI as Request-URI and a Route to itself: %s",
                sipp.output()).isZero();
    }

    /** A registered user has no address a trunk knows; a {@code sips:} URI needs TLS on every hop, which no trunk has. */
    @ParameterizedTest
    @ValueSource(strings = {"user:alice", "sips:alice@pbx.example.com"})
    void aTargetATrunkCannotReachIsRefusedWithoutAnyInvite(String to) throws Exception {
        start("busy");

        assertThatThrownBy(() -> carrier.place(command(to, Map.of()), 1).block(WAIT))
                .isInstanceOfSatisfying(CarrierException.class, error -> {
                    assertThat(error.errorCode()).isEqualTo(CarrierException.UNSUPPORTED_TARGET);
                    assertThat(error.isTechnical()).as("no failover, no requeue").isFalse();
                    assertThat(error.mayHaveBeenPlaced()).isFalse();
                });
        assertThat(reported).isEmpty();
        assertThat(dialogs.saved()).isEmpty();
        assertThat(registry.timer("dialer.dispatcher.carrier.requests", "carrier", "sip", "outcome", "rejected")
                .count()).isEqualTo(1);
    }

    private void start(String scenario) throws Exception {
        start(scenario, null, null);
    }

    private void start(String scenario, String username, String password) throws Exception {
        start(Sipp.uas(scenario), username, password, Duration.ofSeconds(32));
    }

    private void start(Sipp trunk, String username, String password, Duration answerAfterCancel) {
        start(trunk, username, password, answerAfterCancel,
                callback -> Mono.fromRunnable(() -> reported.add(callback)), Duration.ofSeconds(30));
    }

    /** A carrier whose leases are renewed, and orphans claimed, every third of {@code dialogLease}. */
    private void start(Sipp trunk, Function<CarrierCallback, Mono<?>> reporter, Duration dialogLease) {
        start(trunk, null, null, Duration.ofSeconds(32), reporter, dialogLease);
    }

    private void start(Sipp trunk, String username, String password, Duration answerAfterCancel,
                       Function<CarrierCallback, Mono<?>> reporter, Duration dialogLease) {
        sipp = trunk;
        SipTrunkProperties properties = new SipTrunkProperties(true, "127.0.0.1", sipp.port(), "udp", "127.0.0.1", 0,
                null, username, password, null, 40000, Duration.ofSeconds(30), Duration.ofMinutes(5), 2,
                dialogLease, 3, Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofMillis(500));
        carrier = new SipTrunkCarrier(properties, reporter, Clock.systemUTC(), registry, dialogs, answerAfterCancel);
        carrier.start();
        assertThat(carrier.localPort()).isPositive();
    }

    private PlacedCall place(Map<String, Object> carrierOptions) {
        PlacedCall placed = carrier.place(command(carrierOptions), 1).block(WAIT);
        assertThat(placed).isNotNull();
        assertThat(placed.sid()).isNotBlank().isEqualTo(placed.callId());
        return placed;
    }

    private void awaitStatuses(AttemptStatus... expected) {
        await().atMost(WAIT).untilAsserted(() -> assertThat(reported).as("reported: %s", reported)
                .extracting(CarrierCallback::status).containsExactly(expected));
    }

    private CarrierCallback last() {
        List<CarrierCallback> all = List.copyOf(reported);
        return all.get(all.size() - 1);
    }

    private static CallCommand command(Map<String, Object> carrierOptions) {
        return command("+4930654321", carrierOptions);
    }

    private static CallCommand command(String to, Map<String, Object> carrierOptions) {
        return new CallCommand(1, "req-sip", "acc-1", "+4930123456", to, "flow-1", null, "spring", 0, 3, 2,
                null, null, Map.of("otp", "12 34"), null, null, null, null,
                new java.util.HashMap<>(carrierOptions) {{
                    put("headers", Map.of("X-Campaign", "spring", "Via", "must-not-replace"));
                }}, Instant.now());
    }
}
