package dev.dialer.dispatcher.watchdog;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.callback.CallbackApplier.Result;
import dev.dialer.dispatcher.callback.CallbackApplier;
import dev.dialer.dispatcher.callback.CarrierCallback;
import dev.dialer.dispatcher.callback.SipStatusReports;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.dispatcher.carrier.CallReport;
import dev.dialer.dispatcher.carrier.Carrier;
import dev.dialer.dispatcher.carrier.CarrierException;
import dev.dialer.dispatcher.carrier.CarrierProperties;
import dev.dialer.dispatcher.carrier.PlacedCall;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.pacing.Lanes;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.mockito.Mockito;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The watchdog's answer about a quiet dial, on the real PostgreSQL and through the real {@link CallbackApplier}, when
 * the attempt left that dial between the claim and the answer: dial 1 met a late capacity rejection, was requeued,
 * and dial 2 was claimed (and rings) while the carrier was being asked about dial 1's call. The answer about dial 1's
 * call, whatever it says, changes nothing of dial 2: no end, no requeue, no final event, no call id overwritten.
 *
 * <p>And the watchdog's inferences about a quiet dial, when a callback of that very dial came between the claim and
 * the carrier's answer: an end inferred from the status claimed (the call unknown to the carrier) holds only from that
 * status, and leaves the attempt where the callback took it.
 */
// A capacity requeue waits longer than the test: the context's own scheduler never fires the row the test removes.
@TestPropertySource(properties = "dialer.dispatcher.pacing.capacity-requeue-delay=PT1H")
class WatchdogDialBindingIT extends DispatcherOnDatabase {

    private static final String CAPACITY_REASON = "Maximum Calls In Progress";

    @Autowired
    AttemptLedger attempts;

    @Autowired
    CallEvents events;

    @Autowired
    CallbackApplier applier;

    @Autowired
    CarrierProperties carrierProperties;

    @Autowired
    Lanes lanes;

    @Autowired
    SipStatusReports owners;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void theCarriersEndOfTheEarlierCallLeavesTheLaterDialRinging() {
        CallCommand command = command("+4930555301");
        String id = command.requestId();
        quietOnDialOne(command, AttemptStatus.INITIATED);

        reconcile(id, call -> movedOnToDialTwo(command, true)
                .thenReturn(new CallReport(AttemptStatus.COMPLETED, "completed", call.providerCallId(), 200, "OK",
                        31)));

        assertThat(row(id)).as("dial 2 rings on, with its own call").isEqualTo("ringing/2/wd-call-2/false");
        assertThat(statuses(id)).doesNotContain("completed");
        assertThat(finals(id)).isZero();
        assertThat(otherCall()).isEqualTo(1.0);
    }

    @Test
    void theCarriersCapacityRejectionOfTheEarlierCallDoesNotRequeueTheDialBeingPlaced() {
        CallCommand command = command("+4930555302");
        String id = command.requestId();
        quietOnDialOne(command, AttemptStatus.INITIATED);

        // Dial 2 is claimed; its create-call answer (its call's id) has not come yet.
        reconcile(id, call -> movedOnToDialTwo(command, false)
                .thenReturn(new CallReport(AttemptStatus.FAILED, "failed", call.providerCallId(), 503,
                        CAPACITY_REASON, null)));

        assertThat(row(id)).as("dial 2 stays claimed, not requeued under it").isEqualTo("queued/2/null/false");
        assertThat(asked(id)).isTrue();
        assertThat(deferred(id)).as("dial 1's own rejection only").isEqualTo(1);
        assertThat(otherCall()).isEqualTo(1.0);
    }

    @Test
    void theEarlierCallUnknownToTheCarrierDoesNotFailTheLaterDial() {
        CallCommand command = command("+4930555303");
        String id = command.requestId();
        quietOnDialOne(command, AttemptStatus.INITIATED);

        reconcile(id, call -> movedOnToDialTwo(command, true).then(Mono.empty()));

        assertThat(row(id)).isEqualTo("ringing/2/wd-call-2/false");
        assertThat(statuses(id)).doesNotContain("failed");
        assertThat(finals(id)).as("no status_timeout").isZero();
        assertThat(otherCall()).isEqualTo(1.0);
    }

    @Test
    void aRingingCallAnsweredWhileTheCarrierWasAskedIsNotEndedNoAnswerWhenTheCarrierNoLongerKnowsIt() {
        CallCommand command = command("+4930555304");
        String id = command.requestId();
        quietOnDialOne(command);

        reconcile(id, call -> callback(id, AttemptStatus.IN_PROGRESS, "in-progress", 200, "OK").then(Mono.empty()));

        assertThat(row(id)).as("answered, as the callback said").isEqualTo("in-progress/1/wd-call-1/false");
        assertThat(statuses(id)).doesNotContain("no-answer");
        assertThat(finals(id)).isZero();
        assertThat(outcome(Watchdog.NEWS_MEANWHILE)).isEqualTo(1.0);
        assertThat(outcome(Watchdog.RANG_GONE)).isZero();
    }

    @Test
    void anInitiatedCallThatRangWhileTheCarrierWasAskedIsNotFailedWithStatusTimeout() {
        CallCommand command = command("+4930555305");
        String id = command.requestId();
        quietOnDialOne(command, AttemptStatus.INITIATED);

        reconcile(id, call -> callback(id, AttemptStatus.RINGING, "ringing", 180, "Ringing").then(Mono.empty()));

        assertThat(row(id)).isEqualTo("ringing/1/wd-call-1/false");
        assertThat(statuses(id)).doesNotContain("failed");
        assertThat(finals(id)).as("no status_timeout").isZero();
        assertThat(outcome(Watchdog.NEWS_MEANWHILE)).isEqualTo(1.0);
        assertThat(outcome(Watchdog.STATUS_TIMEOUT)).isZero();
    }

    @Test
    void aCancelledRequestsCallAnsweredWhileTheCarrierWasAskedIsNotEndedCanceled() {
        CallCommand command = command("+4930555307");
        String id = command.requestId();
        quietOnDialOne(command);
        db.sql("UPDATE dispatch.requests SET cancel_requested_at = now() WHERE request_id = $1").bind(0, id)
                .then().block(WAIT);

        reconcile(id, call -> callback(id, AttemptStatus.IN_PROGRESS, "in-progress", 200, "OK").then(Mono.empty()));

        assertThat(row(id)).isEqualTo("in-progress/1/wd-call-1/false");
        assertThat(statuses(id)).doesNotContain("canceled");
        assertThat(finals(id)).isZero();
        assertThat(outcome(Watchdog.NEWS_MEANWHILE)).isEqualTo(1.0);
        assertThat(outcome("canceled")).isZero();
    }

    @Test
    void withNoNewsSinceTheClaimARingingCallTheCarrierNoLongerKnowsEndsNoAnswer() {
        CallCommand command = command("+4930555306");
        String id = command.requestId();
        quietOnDialOne(command);

        reconcile(id, call -> Mono.empty());

        assertThat(row(id)).isEqualTo("no-answer/1/wd-call-1/false");
        assertThat(outcome(Watchdog.RANG_GONE)).isEqualTo(1.0);
        assertThat(outcome(Watchdog.NEWS_MEANWHILE)).isZero();
    }

    @Test
    @SuppressWarnings("unchecked")
    void aCancelMarkedAfterTheEndWasDecidedEndsTheRequestCanceledNotFailedWithStatusTimeout() {
        CallCommand command = command("+4930555308");
        String id = command.requestId();
        quietOnDialOne(command, AttemptStatus.INITIATED);
        // The cancel is marked just after the watchdog read the end's context, which said none.
        AttemptLedger crossing = Mockito.spy(attempts);
        Mockito.doAnswer(read -> ((Mono<AttemptLedger.EndContext>) read.callRealMethod())
                        .flatMap(context -> db.sql("UPDATE dispatch.requests SET cancel_requested_at = now() "
                                        + "WHERE request_id = $1").bind(0, id).then().thenReturn(context)))
                .when(crossing).endContext(id, 1);

        reconcile(crossing, id, call -> Mono.empty());

        assertThat(row(id)).startsWith("canceled/1/");
        assertThat(statuses(id)).doesNotContain("failed");
        assertThat(db.sql("SELECT payload ->> 'status' FROM dispatch.outbox WHERE request_id = $1"
                        + " AND event_type = 'call.final'").bind(0, id).map(row -> row.get(0, String.class)).all()
                .collectList().block(WAIT)).containsExactly("canceled");
        assertThat(outcome("canceled")).isEqualTo(1.0);
        assertThat(outcome(Watchdog.STATUS_TIMEOUT)).isZero();
    }

    /** Dial 1 placed and ringing, then quiet for longer than the watchdog waits. */
    private void quietOnDialOne(CallCommand command) {
        quietOnDialOne(command, AttemptStatus.RINGING);
    }

    /** Dial 1 placed and {@code status} (initiated or ringing), then quiet for longer than the watchdog waits. */
    private void quietOnDialOne(CallCommand command, AttemptStatus status) {
        String id = command.requestId();
        attempts.record(command).block(WAIT);
        assertThat(attempts.claimDial(id, 1).block(WAIT)).isEqualTo(1);
        attempts.storeProviderCallId(id, 1, 1, "wd-call-1", "voice-gateway").block(WAIT);
        assertThat(applier.apply(new CarrierCallback(id, 1, status, status.wire(), "wd-call-1",
                status == AttemptStatus.RINGING ? 180 : 100, null, null, null, null, 1)).block(WAIT))
                .isEqualTo(Result.APPLIED);
        // Older than anything else quiet on the shared database: claimed first.
        db.sql("UPDATE dispatch.attempts SET updated_at = now() - interval '10 years',"
                        + " carrier_asked_at = now() - interval '10 years' WHERE request_id = $1")
                .bind(0, id).then().block(WAIT);
    }

    /**
     * While the carrier is asked about dial 1's call (which never rang: one that did is not requeued under the same
     * attempt): dial 1's capacity rejection comes late, the attempt is requeued, its command comes back and claims
     * dial 2, and (when {@code placed}) dial 2's call is placed and rings.
     */
    private Mono<Void> movedOnToDialTwo(CallCommand command, boolean placed) {
        String id = command.requestId();
        return Mono.<Void>fromRunnable(() -> {
            assertThat(applier.apply(new CarrierCallback(id, 1, AttemptStatus.FAILED, "failed", "wd-call-1", 503,
                    CAPACITY_REASON, null, null, null, 1)).block(WAIT)).isEqualTo(Result.APPLIED);
            db.sql("DELETE FROM dispatch.schedule WHERE request_id = $1").bind(0, id).then().block(WAIT);
            assertThat(events.emitOn(command, attempts.reclaimedAttempt(command), event -> event
                    .status(AttemptStatus.QUEUED)).blockOptional(WAIT)).isPresent();
            assertThat(attempts.claimDial(id, 1).block(WAIT)).isEqualTo(2);
            if (placed) {
                attempts.storeProviderCallId(id, 1, 2, "wd-call-2", "voice-gateway").block(WAIT);
                assertThat(applier.apply(new CarrierCallback(id, 1, AttemptStatus.RINGING, "ringing", "wd-call-2",
                        180, "Ringing", null, null, null, 2)).block(WAIT)).isEqualTo(Result.APPLIED);
            }
        }).subscribeOn(Schedulers.boundedElastic());
    }

    /**
     * One poll of a watchdog on the real ledger and applier, whose carrier answers about the request's dial 1 call as
     * {@code answer} says; it cannot be asked about any other call (attempts other tests left quiet stay as they are).
     */
    private void reconcile(String requestId, Function<CallRef, Mono<CallReport>> answer) {
        reconcile(attempts, requestId, answer);
    }

    private void reconcile(AttemptLedger ledger, String requestId, Function<CallRef, Mono<CallReport>> answer) {
        Carrier carrier = new Carrier() {
            @Override
            public Mono<PlacedCall> place(CallCommand command, int dial) {
                return Mono.error(new AssertionError("the watchdog never dials"));
            }

            @Override
            public Mono<CallReport> status(CallRef call) {
                if (!call.requestId().equals(requestId)) {
                    return Mono.error(new CarrierException(CarrierException.Reason.UNREACHABLE, "not this test's",
                            null));
                }
                assertThat(call.providerCallId()).isEqualTo("wd-call-1");
                return answer.apply(call);
            }

            @Override
            public Mono<Boolean> hangUp(CallRef call) {
                return Mono.just(false);
            }
        };
        Watchdog watchdog = new Watchdog(ledger, carrier, applier, events, new WatchdogProperties(true,
                Duration.ofMinutes(5), Duration.ofSeconds(30), Duration.ofMinutes(2), 1000, null,
                Duration.ofMinutes(15)),
                new Watchdog.CallDefaults(carrierProperties.ringTimeout(), carrierProperties.timeLimit()),
                Clock.systemUTC(), registry, null, lanes, owners);
        watchdog.reconcileQuiet().block(WAIT);
    }

    /** A callback of dial 1's call, applied while the carrier is asked about it. */
    private Mono<Void> callback(String requestId, AttemptStatus status, String providerStatus, int sip, String reason) {
        return Mono.<Void>fromRunnable(() -> assertThat(applier.apply(new CarrierCallback(requestId, 1, status,
                        providerStatus, "wd-call-1", sip, reason, null, null, null, 1)).block(WAIT))
                        .isEqualTo(Result.APPLIED))
                .subscribeOn(Schedulers.boundedElastic());
    }

    private double otherCall() {
        return outcome(Watchdog.OTHER_CALL);
    }

    private double outcome(String outcome) {
        return registry.counter("dialer.dispatcher.watchdog.reconciled", "outcome", outcome).count();
    }

    /** status / dial_no / provider_call_id / requeued. */
    private String row(String requestId) {
        return db.sql("""
                        SELECT status || '/' || dial_no || '/' || COALESCE(provider_call_id, 'null') || '/' || requeued
                          FROM dispatch.attempts WHERE request_id = $1 AND attempt_no = 1""")
                .bind(0, requestId)
                .map(row -> row.get(0, String.class))
                .one()
                .block(WAIT);
    }

    /** Whether the attempt's current dial is claimed (the carrier asked, or about to be). */
    private boolean asked(String requestId) {
        return db.sql("SELECT carrier_asked_at IS NOT NULL FROM dispatch.attempts WHERE request_id = $1")
                .bind(0, requestId)
                .map(row -> row.get(0, Boolean.class))
                .one()
                .block(WAIT);
    }

    /** The statuses of the request's {@code call.status} events, in the order they were stored. */
    private List<String> statuses(String requestId) {
        return db.sql("""
                        SELECT payload ->> 'status' FROM dispatch.outbox
                         WHERE request_id = $1 AND event_type = 'call.status' ORDER BY id""")
                .bind(0, requestId)
                .map(row -> row.get(0, String.class))
                .all()
                .collectList()
                .block(WAIT);
    }

    private long finals(String requestId) {
        return count("SELECT count(*) FROM dispatch.outbox WHERE request_id = $1 AND event_type = 'call.final'",
                requestId);
    }

    private long deferred(String requestId) {
        return count("SELECT count(*) FROM dispatch.outbox WHERE request_id = $1 AND event_type = 'call.deferred'",
                requestId);
    }

    private long count(String sql, String requestId) {
        return db.sql(sql).bind(0, requestId).map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    /** Retried every 5 minutes, 3 attempts at most: an attempt ended by mistake would be tried again. */
    private static CallCommand command(String callerId) {
        return new CallCommand(1, "wdb-" + UUID.randomUUID(), "acc-watchdog-binding", callerId, "+4915112340501",
                null, "a.wav", null, 5, 3, 1, null, null, null, null, null, null, null, null, Instant.now());
    }
}
