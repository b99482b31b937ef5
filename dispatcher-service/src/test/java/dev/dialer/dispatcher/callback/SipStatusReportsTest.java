package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;

import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.OpenAttempts;
import dev.dialer.dispatcher.command.KeyRouting;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

class SipStatusReportsTest {

    private static final String CALLER = "+4930777004";
    private static final Set<Integer> ALL = IntStream.range(0, 12).boxed().collect(Collectors.toSet());

    /** Every status the SIP trunk carrier reports (SipCall), as the owner reads it back from the callbacks topic. */
    private static final List<CarrierCallback> STATUSES = List.of(
            status(AttemptStatus.INITIATED, "trying", null, null, null),
            status(AttemptStatus.RINGING, "ringing", 180, null, null),
            status(AttemptStatus.RINGING, "early-media", 183, null, null),
            status(AttemptStatus.IN_PROGRESS, "in-progress", 200, "OK", null),
            status(AttemptStatus.COMPLETED, "completed", null, null, 42),
            status(AttemptStatus.BUSY, "busy", 486, "Busy Here", null),
            status(AttemptStatus.FAILED, "failed", 404, "Not Found", null),
            status(AttemptStatus.FAILED, "failed", null, "no response from the trunk", null),
            status(AttemptStatus.NO_ANSWER, "no-answer", 487, "Request Terminated", null),
            status(AttemptStatus.CANCELED, "canceled", 487, "Request Terminated", null),
            // A ringing call and an answered one found orphaned at start-up, ended by the dispatcher that took them.
            new CarrierCallback("r-1", 2, AttemptStatus.FAILED, "failed", "call-1@10.0.0.1", null,
                    "the dispatcher restarted while the call rang", null, null, "dispatcher_restart", 3, true),
            new CarrierCallback("r-1", 2, AttemptStatus.COMPLETED, "completed", "call-1@10.0.0.1", 200, null, 17,
                    null, null, null, true));

    /** The command of the attempt the statuses below are about (r-1, attempt 2). */
    private static CallCommand attemptTwo() {
        return new CallCommand(1, "r-1", "a", CALLER, "+4915112345678", null, "welcome.wav", null, 0, 3, 2, null,
                null, Map.of(), null, null, null, null, null, Instant.now());
    }

    private static CarrierCallback status(AttemptStatus status, String raw, Integer sip, String reason,
                                          Integer duration) {
        return new CarrierCallback("r-1", 2, status, raw, "call-1@10.0.0.1", sip, reason, duration);
    }

    @Test
    void aStatusAppendedForTheOwnerIsReadBackAsItWasReported() {
        for (CarrierCallback reported : STATUSES) {
            byte[] body = SipStatusReports.body(reported, CALLER);

            assertThat(JambonzCallbackReader.read(body).callerId()).isEqualTo(CALLER);
            assertThat(CallbackRecords.read(body, SipStatusReports.headers(reported)))
                    .as(reported.providerStatus()).contains(reported);
        }
    }

    /**
     * The watchdog's end of a call the carrier still listed as alive past its life keeps the carrier's raw status for
     * its event; the owner's copy says the end, so that the owner frees the call's trunk slot.
     */
    @Test
    void anEndInferredFromAStatusThatSaidTheCallWasAliveIsReadBackAsTheEnd() {
        for (String alive : List.of("in-progress", "ringing", "early-media", "trying")) {
            CarrierCallback staleAlive = new CarrierCallback("r-1", 2, AttemptStatus.COMPLETED, alive,
                    "call-1@10.0.0.1", null, null, null, null, null, 3, false);

            assertThat(CallbackRecords.read(SipStatusReports.body(staleAlive, CALLER),
                    SipStatusReports.headers(staleAlive))).as(alive)
                    .hasValueSatisfying(read -> assertThat(read.status()).isEqualTo(AttemptStatus.COMPLETED));
        }
    }

    @Test
    void aStatusOfACallPlacedHereSinceTheCallerIdWasOwnedIsAppliedHereAndSentOnOnlyIfPartitionsMovedMeanwhile()
            throws InterruptedException {
        KeyRouting keys = new KeyRouting();
        keys.commandsTopicHas(12);
        keys.owns(ALL, Set.of());
        Thread.sleep(1);
        OpenAttempts open = new OpenAttempts(mock(AttemptLedger.class), new SimpleMeterRegistry());
        open.recorded(attemptTwo(), 1);
        CallbackApplier applier = mock(CallbackApplier.class);
        CallbackRecords records = mock(CallbackRecords.class);
        when(records.append(any(), any(), any())).thenReturn(Mono.empty());
        when(records.appendCopy(any(), any(), any())).thenReturn(Mono.empty());
        SipStatusReports reports = new SipStatusReports(applier, open, keys, records);
        CarrierCallback ringing = status(AttemptStatus.RINGING, "ringing", 180, null, null);

        when(applier.apply(any())).thenReturn(Mono.just(CallbackApplier.Result.APPLIED));
        reports.report(ringing).block(Duration.ofSeconds(5));
        verify(applier).apply(ringing);
        verify(records, never()).append(any(), any(), any());

        // Revoked while the end is applied: the next owner may have counted the call, so it hears of the end too.
        CarrierCallback busy = status(AttemptStatus.BUSY, "busy", 486, "Busy Here", null);
        when(applier.apply(busy)).thenReturn(Mono.fromCallable(() -> {
            keys.owns(Set.of(), Set.of(7));
            return CallbackApplier.Result.APPLIED;
        }));
        reports.report(busy).block(Duration.ofSeconds(5));
        verify(records).appendCopy(CALLER, SipStatusReports.body(busy, CALLER), Map.of());
        verify(records, never()).append(any(), any(), any());
        verify(records, times(2)).routed(CallbackRecords.IN_PLACE);
    }

    @Test
    void aStatusOfACallPlacedBeforeARebalanceGoesToTheOwnerThroughTheTopic() throws InterruptedException {
        KeyRouting keys = new KeyRouting();
        keys.commandsTopicHas(12);
        keys.owns(ALL, Set.of());
        OpenAttempts open = new OpenAttempts(mock(AttemptLedger.class), new SimpleMeterRegistry());
        open.recorded(attemptTwo(), 1);
        Thread.sleep(1);
        keys.owns(Set.of(), ALL);
        keys.owns(ALL, Set.of());
        CallbackApplier applier = mock(CallbackApplier.class);
        CallbackRecords records = mock(CallbackRecords.class);
        when(records.append(any(), any(), any())).thenReturn(Mono.empty());
        CarrierCallback completed = status(AttemptStatus.COMPLETED, "completed", null, null, 12);

        new SipStatusReports(applier, open, keys, records).report(completed).block(Duration.ofSeconds(5));

        verify(applier, never()).apply(any());
        verify(records).append(CALLER, SipStatusReports.body(completed, CALLER), Map.of());
    }

    @Test
    void aStatusThatCannotBeAppendedForItsOwnerIsAppliedHereInstead() {
        KeyRouting keys = new KeyRouting();
        keys.commandsTopicHas(12);
        keys.owns(Set.of(), ALL);
        OpenAttempts open = new OpenAttempts(mock(AttemptLedger.class), new SimpleMeterRegistry());
        open.recorded(attemptTwo(), 1);
        CallbackApplier applier = mock(CallbackApplier.class);
        CallbackRecords records = mock(CallbackRecords.class);
        // Kafka away past the append's retries.
        when(records.append(any(), any(), any()))
                .thenReturn(Mono.error(new org.apache.kafka.common.errors.TimeoutException("no broker")));
        when(applier.apply(any())).thenReturn(Mono.just(CallbackApplier.Result.APPLIED));
        CarrierCallback completed = status(AttemptStatus.COMPLETED, "completed", null, null, 12);

        assertThat(new SipStatusReports(applier, open, keys, records).report(completed).block(Duration.ofSeconds(5)))
                .isEqualTo(CallbackApplier.Result.APPLIED);

        verify(applier).apply(completed);
        verify(records).routed(CallbackRecords.HERE_INSTEAD);
    }

    @Test
    void anEndTheWatchdogInferredHereGoesToAnotherOwnerAsAnEndItReadsBackAndToNoneWhenOwnedHere() {
        KeyRouting keys = new KeyRouting();
        keys.commandsTopicHas(12);
        CallbackRecords records = mock(CallbackRecords.class);
        when(records.appendCopy(any(), any(), any())).thenReturn(Mono.empty());
        SipStatusReports reports = new SipStatusReports(mock(CallbackApplier.class),
                new OpenAttempts(mock(AttemptLedger.class), new SimpleMeterRegistry()), keys, records);
        // Inferred: no raw status from the carrier, bound to the call and dial the watchdog asked about.
        CarrierCallback gone = new CarrierCallback("r-1", 2, AttemptStatus.COMPLETED, null, "call-1", null, null,
                null, null, null, 1, false, true, AttemptStatus.IN_PROGRESS);

        keys.owns(ALL, Set.of());
        reports.endedHere(gone, CALLER).block(Duration.ofSeconds(5));
        verify(records, never()).appendCopy(any(), any(), any());

        keys.owns(Set.of(), ALL);
        reports.endedHere(gone, CALLER).block(Duration.ofSeconds(5));
        byte[] body = SipStatusReports.body(gone, CALLER);
        verify(records).appendCopy(CALLER, body, Map.of());
        verify(records, never()).append(any(), any(), any());
        CarrierCallback read = CallbackRecords.read(body, Map.of()).orElseThrow();
        assertThat(read.status()).as("read back as the end it is").isEqualTo(AttemptStatus.COMPLETED);
        assertThat(read.providerCallId()).isEqualTo("call-1");
        assertThat(read.dial()).isEqualTo(1);
    }

    @Test
    void theDialersOwnCanceledIsReadAsWellAsTheVoiceGatewaysStatuses() {
        assertThat(SipStatusReports.statusOf("canceled")).contains(AttemptStatus.CANCELED);
        assertThat(SipStatusReports.statusOf("early-media")).contains(AttemptStatus.RINGING);
        assertThat(SipStatusReports.statusOf("queued")).isEmpty();
        assertThat(SipStatusReports.statusOf(null)).isEmpty();
    }
}
