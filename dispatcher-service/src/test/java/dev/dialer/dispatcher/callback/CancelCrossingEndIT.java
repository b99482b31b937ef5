package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.OpenAttempts;
import dev.dialer.dispatcher.callback.CallbackApplier.Result;
import dev.dialer.dispatcher.carrier.CallCanceller;
import dev.dialer.dispatcher.event.CallEvents;
import dev.dialer.dispatcher.outcome.OwnCancels;
import dev.dialer.dispatcher.pacing.Lanes;
import dev.dialer.dispatcher.pacing.PacingProperties;
import dev.dialer.dispatcher.retry.RetryMetrics;
import dev.dialer.dispatcher.retry.RetryPolicy;
import dev.dialer.dispatcher.retry.RetryProperties;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.mockito.Mockito;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import reactor.core.publisher.Mono;

/**
 * A callback's end that no retry follows, crossing what another hook stored on the real PostgreSQL after the applier
 * read the end's context (which said none) and before the end commits. A cancel of its request: the request ends
 * {@code canceled}, as it would have with the cancel seen, not as the callback said. An answering-machine result:
 * the answered call's end carries it, as it would have with the result seen.
 */
class CancelCrossingEndIT extends DispatcherOnDatabase {

    @Autowired
    AttemptLedger attempts;

    @Autowired
    OpenAttempts openAttempts;

    @Autowired
    CallEvents events;

    @Autowired
    RetryPolicy retryPolicy;

    @Autowired
    RetryMetrics retryMetrics;

    @Autowired
    Clock clock;

    @Autowired
    MeterRegistry registry;

    @Autowired
    OwnCancels ownCancels;

    @Autowired
    Lanes lanes;

    @Autowired
    PacingProperties pacing;

    @Autowired
    AnsweringMachineResults answeringMachine;

    @Autowired
    RetryProperties retry;

    @Autowired
    ObjectProvider<CallCanceller> canceller;

    @Autowired
    StatusMoves moves;

    @Test
    @SuppressWarnings("unchecked")
    void anEndThatCrossesACancelOfItsRequestEndsItCanceledNotAsTheCallbackSaid() {
        CallCommand command = new CallCommand(1, "ccx-" + UUID.randomUUID(), "acc-crossing", "+4930555401",
                "+4915112340401", null, "a.wav", null, 5, 3, 1, null, null, null, null, null, null, null, null,
                Instant.now());
        String id = command.requestId();
        attempts.record(command).block(WAIT);
        assertThat(attempts.claimDial(id, 1).block(WAIT)).isEqualTo(1);
        attempts.storeProviderCallId(id, 1, 1, "ccx-call-1").block(WAIT);
        // The cancel is marked just after the applier read the end's context, which said none.
        AttemptLedger crossing = Mockito.spy(attempts);
        Mockito.doAnswer(read -> ((Mono<AttemptLedger.EndContext>) read.callRealMethod())
                        .flatMap(context -> db.sql("UPDATE dispatch.requests SET cancel_requested_at = now() "
                                + "WHERE request_id = $1").bind(0, id).then().thenReturn(context)))
                .when(crossing).endContext(id, 1);
        CallbackApplier applier = applier(crossing);

        // 404: the number does not exist, never retried; the request would end failed.
        assertThat(applier.apply(new CarrierCallback(id, 1, AttemptStatus.FAILED, "failed", "ccx-call-1", 404,
                "Not Found", null, null, null, 1)).block(WAIT)).isEqualTo(Result.APPLIED);

        assertThat(db.sql("SELECT status FROM dispatch.attempts WHERE request_id = $1").bind(0, id)
                .map(row -> row.get(0, String.class)).one().block(WAIT)).isEqualTo("canceled");
        assertThat(finals(id)).containsExactly("canceled");
    }

    @Test
    @SuppressWarnings("unchecked")
    void anAnsweredEndThatCrossesItsDetectionCarriesItInTheFinal() {
        CallCommand command = new CallCommand(1, "amx-" + UUID.randomUUID(), "acc-crossing", "+4930555402",
                "+4915112340402", null, "a.wav", null, 5, 3, 1, null, null, null, null, null, null, null,
                Map.of("amd", Map.of("thresholdWordCount", 5)), Instant.now());
        String id = command.requestId();
        attempts.record(command).block(WAIT);
        assertThat(attempts.claimDial(id, 1).block(WAIT)).isEqualTo(1);
        attempts.storeProviderCallId(id, 1, 1, "amx-call-1").block(WAIT);
        assertThat(applier(attempts).apply(new CarrierCallback(id, 1, AttemptStatus.IN_PROGRESS, "in-progress",
                "amx-call-1", 200, "OK", null)).block(WAIT)).isEqualTo(Result.APPLIED);
        // The detection, posted to its own hook, is applied just after the end's context was read, which had none.
        AttemptLedger crossing = Mockito.spy(attempts);
        CarrierCallback detection = new CarrierCallback(id, 1, AttemptStatus.IN_PROGRESS, "amd_human_detected",
                "amx-call-1", null, null, null, "human", null, null, false, true);
        Mockito.doAnswer(read -> ((Mono<AttemptLedger.EndContext>) read.callRealMethod())
                        .flatMap(context -> applier(attempts).apply(detection).thenReturn(context)))
                .when(crossing).endContext(id, 1);

        assertThat(applier(crossing).apply(new CarrierCallback(id, 1, AttemptStatus.COMPLETED, "completed",
                "amx-call-1", 200, "OK", 2)).block(WAIT)).isEqualTo(Result.APPLIED);

        assertThat(db.sql("""
                        SELECT coalesce(payload ->> 'answered_by', 'none') FROM dispatch.outbox
                         WHERE request_id = $1 AND payload ->> 'status' = 'completed'""")
                .bind(0, id).map(row -> row.get(0, String.class)).all().collectList().block(WAIT))
                .containsExactly("human");
        assertThat(finals(id)).containsExactly("answered");
        assertThat(db.sql("""
                        SELECT coalesce(payload ->> 'answered_by', 'none') FROM dispatch.outbox
                         WHERE request_id = $1 AND event_type = 'call.final'""")
                .bind(0, id).map(row -> row.get(0, String.class)).one().block(WAIT)).isEqualTo("human");
    }

    private CallbackApplier applier(AttemptLedger ledger) {
        return new CallbackApplier(ledger, openAttempts, events, retryPolicy, retryMetrics, clock, registry,
                ownCancels, lanes, pacing, answeringMachine, retry, canceller, moves);
    }

    private List<String> finals(String requestId) {
        return db.sql("""
                        SELECT payload ->> 'status' FROM dispatch.outbox
                         WHERE request_id = $1 AND event_type = 'call.final'""")
                .bind(0, requestId)
                .map(row -> row.get(0, String.class))
                .all()
                .collectList()
                .block(WAIT);
    }
}
