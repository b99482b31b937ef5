package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.dispatcher.attempt.AttemptOfCall;
import dev.dialer.dispatcher.attempt.OpenAttempts;
import dev.dialer.dispatcher.carrier.CarrierProperties;
import dev.dialer.dispatcher.carrier.routing.CarrierRoutingProperties;
import dev.dialer.dispatcher.command.KeyRouting;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * How the status endpoint routes a callback of a call this dispatcher dialled and whose caller ID it owns: applied in
 * place, and appended to the callbacks topic as well, or instead, when applying it here could not be the last word;
 * with tags sealed, refused before it is routed when its tag does not carry its seal.
 */
class InPlaceCallbacksTest {

    private static final String CALLER = "+4930555000";
    private static final String BODY = """
            {"call_sid":"cs-1","call_status":"completed","sip_status":200,
             "customerData":{"request_id":"r-1","attempt":1,"caller_id":"%s"}}""".formatted(CALLER);

    private final MeterRegistry registry = new SimpleMeterRegistry();
    private final CallbackApplier applier = mock(CallbackApplier.class);
    private final CallbackRecords records = mock(CallbackRecords.class);
    private final KeyRouting keys = new KeyRouting();
    private final AttemptLedger ledger = mock(AttemptLedger.class);
    private final OpenAttempts openAttempts = new OpenAttempts(ledger, registry);
    private VoiceGatewayStatusEndpoint endpoint;

    @BeforeEach
    void ownTheCallerIdAndDialTheCall() throws InterruptedException {
        keys.commandsTopicHas(12);
        keys.owns(allPartitions(), Set.of());
        Thread.sleep(1);
        openAttempts.recorded(new CallCommand(1, "r-1", "a", CALLER, "+4915112345678", null, "welcome.wav", null, 0,
                0, 1, null, null, Map.of(), null, null, null, null, null, Instant.now()), 1);
        when(records.append(any(), any())).thenReturn(Mono.empty());
        when(records.appendCopy(any(), any(), any())).thenReturn(Mono.empty());
        endpoint = endpoint(null);
    }

    private VoiceGatewayStatusEndpoint endpoint(String tagKeys) {
        CarrierRoutingProperties routing = new CarrierRoutingProperties(Map.of(), List.of(), Map.of(), Map.of(),
                new CarrierRoutingProperties.Guard(Duration.ofSeconds(2), 10, 50, 2, Duration.ofSeconds(30),
                        Duration.ZERO));
        CarrierProperties carrier = new CarrierProperties("http://vg", "acc", null, "player", null, null,
                Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofHours(1), Duration.ofMinutes(5), false,
                Duration.ofMinutes(10), tagKeys);
        return new VoiceGatewayStatusEndpoint(carrier, routing, applier, records,
                new CallbackLag(registry, routing, Clock.systemUTC()), registry, new CallbackProperties(64, 4, null),
                keys, openAttempts, ledger);
    }

    @Test
    void appliedInPlaceItIsNotAppended() {
        when(applier.apply(any())).thenReturn(Mono.just(CallbackApplier.Result.APPLIED));

        assertThat(post()).isEqualTo(200);

        verify(applier).apply(any());
        verify(records, never()).append(any(), any());
        verify(records).routed(CallbackRecords.IN_PLACE);
    }

    @Test
    void partitionsRevokedWhileItWasAppliedSendItToTheNextOwnerToo() {
        // The revocation comes while the callback is being applied: the next owner may have counted the call.
        when(applier.apply(any())).thenReturn(Mono.fromCallable(() -> {
            keys.owns(Set.of(), Set.of(3));
            return CallbackApplier.Result.APPLIED;
        }));

        assertThat(post()).isEqualTo(200);

        // A copy, not a callback of its own: counted apart from the one applied here.
        verify(records).appendCopy(eq(CALLER), eq(BODY.getBytes(StandardCharsets.UTF_8)),
                eq(Map.of(CallbackRecords.CALL_BOUND_HEADER, "true")));
        verify(records, never()).append(any(), any());
        verify(records).routed(CallbackRecords.IN_PLACE);
    }

    @Test
    void notAppliedWithinTheLimitItIsAppendedInsteadAndTheApplicationStillRunsToItsEnd() {
        Sinks.One<CallbackApplier.Result> applied = Sinks.one();
        when(applier.apply(any())).thenReturn(applied.asMono());

        StepVerifier.withVirtualTime(() -> endpoint.status(null, BODY.getBytes(StandardCharsets.UTF_8)))
                .thenAwait(VoiceGatewayStatusEndpoint.IN_PLACE_LIMIT)
                .assertNext(answer -> assertThat(answer.getStatusCode().value()).isEqualTo(200))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        verify(records).append(eq(CALLER), any());
        assertThat(fallbacks("timeout")).isEqualTo(1);
        assertThat(fallbacks("error")).isZero();

        // Not cancelled by the answer: a transaction or a cancel at the carrier is not cut short.
        assertThat(applied.currentSubscriberCount()).isEqualTo(1);
        applied.tryEmitValue(CallbackApplier.Result.APPLIED);
        assertThat(applied.currentSubscriberCount()).isZero();
        // Counted once, as the callback appended to the topic (the mock's append counts nothing).
        verify(records, never()).routed(CallbackRecords.IN_PLACE);
    }

    @Test
    void theCarrierGivingUpOnItsRequestDoesNotCancelTheAppendForTheOwner() {
        // Another dispatcher owns the caller ID now: the callback is appended for it.
        keys.owns(Set.of(), allPartitions());
        Sinks.Empty<Void> appended = Sinks.empty();
        when(records.append(any(), any())).thenReturn(appended.asMono());

        Disposable request = endpoint.status(null, BODY.getBytes(StandardCharsets.UTF_8)).subscribe();
        assertThat(appended.currentSubscriberCount()).isEqualTo(1);
        // jambonz's own time-out: it closes the request, and never sends this callback again.
        request.dispose();

        assertThat(appended.currentSubscriberCount()).as("the append goes on").isEqualTo(1);
        appended.tryEmitEmpty();
        assertThat(appended.currentSubscriberCount()).isZero();
        verify(applier, never()).apply(any());
    }

    @Test
    void aCallbackThatCannotBeAppendedForTheOwnerIsAppliedHereInstead() {
        // Another dispatcher owns the caller ID, and Kafka is away past the append's retries.
        keys.owns(Set.of(), allPartitions());
        when(records.append(any(), any()))
                .thenReturn(Mono.error(new org.apache.kafka.common.errors.TimeoutException("no broker")));
        when(applier.apply(any())).thenReturn(Mono.just(CallbackApplier.Result.APPLIED));

        assertThat(post()).isEqualTo(200);

        verify(records).append(eq(CALLER), any());
        verify(applier).apply(any());
        verify(records).routed(CallbackRecords.HERE_INSTEAD);
    }

    @Test
    void failingInPlaceAndThenOnItsWayToTheTopicItIsNotAppliedHereASecondTime() {
        when(applier.apply(any())).thenReturn(Mono.error(new IllegalStateException("database unavailable")));
        when(records.append(any(), any()))
                .thenReturn(Mono.error(new org.apache.kafka.common.errors.TimeoutException("no broker")));

        assertThat(post()).isEqualTo(500);

        verify(applier).apply(any());
        verify(records, never()).routed(CallbackRecords.HERE_INSTEAD);
    }

    @Test
    void failingInPlaceAfterTheCarrierStoppedWaitingItIsAppendedAllTheSame() {
        Sinks.One<CallbackApplier.Result> applied = Sinks.one();
        when(applier.apply(any())).thenReturn(applied.asMono());

        Disposable request = endpoint.status(null, BODY.getBytes(StandardCharsets.UTF_8)).subscribe();
        request.dispose();
        applied.tryEmitError(new IllegalStateException("database unavailable"));

        verify(records).append(eq(CALLER), any());
        assertThat(fallbacks("error")).isEqualTo(1);
    }

    @Test
    void failingInPlaceItIsAppendedInsteadAndTheCallsLaterCallbacksFollowIt() {
        when(applier.apply(any())).thenReturn(Mono.error(new IllegalStateException("database unavailable")));
        assertThat(post()).isEqualTo(200);
        verify(records).append(eq(CALLER), any());
        assertThat(fallbacks("error")).isEqualTo(1);

        // The next callback would otherwise be applied here before the one in the topic.
        when(applier.apply(any())).thenReturn(Mono.just(CallbackApplier.Result.APPLIED));
        assertThat(post()).isEqualTo(200);

        verify(applier).apply(any());
        verify(records, times(2)).append(eq(CALLER), any());
    }

    @Test
    void appliedWhilePartitionsMovedItIsAnsweredAsAppliedEvenIfTheCopyCannotBeAppended() {
        when(applier.apply(any())).thenReturn(Mono.fromCallable(() -> {
            keys.owns(Set.of(), Set.of(3));
            return CallbackApplier.Result.APPLIED;
        }));
        when(records.appendCopy(any(), any(), any()))
                .thenReturn(Mono.error(new IllegalStateException("Kafka unavailable")));

        assertThat(post()).isEqualTo(200);

        verify(applier).apply(any());
        verify(records).appendCopy(eq(CALLER), any(), any());
    }

    @Test
    void aCallRecordedBeforeTheCurrentOwnershipBeganGoesThroughTheTopic() throws InterruptedException {
        // A rebalance after the dial: its callbacks meanwhile went through the topic, the rest follow them there.
        Thread.sleep(1);
        keys.owns(Set.of(), allPartitions());
        keys.owns(allPartitions(), Set.of());

        assertThat(post()).isEqualTo(200);

        verify(applier, never()).apply(any());
        verify(records).append(eq(CALLER), any());
    }

    @Test
    void aCallbackWhoseTagTheCallsApplicationReplacedIsAppliedInPlaceAsTheAttemptThatPlacedItsCall() {
        when(ledger.attemptOfCall("cs-1")).thenReturn(Mono.just(new AttemptOfCall("r-1", 1, 1, CALLER)));
        when(applier.apply(any())).thenReturn(Mono.just(CallbackApplier.Result.APPLIED));

        assertThat(post("""
                {"call_sid":"cs-1","call_status":"completed","sip_status":200,"customerData":{"crm_step":"bye"}}"""))
                .isEqualTo(200);

        verify(applier).apply(argThat(callback -> callback.requestId().equals("r-1") && callback.attempt() == 1
                && callback.dial() == 1 && callback.callBound() && callback.providerCallId().equals("cs-1")));
        verify(records, never()).append(any(), any());
    }

    @Test
    void aCallbackWhoseTagWasReplacedIsLookedForThroughADatabaseOutageAfterTheCarrierStoppedWaiting() {
        // PostgreSQL away for four tries: more than a few quick retries would wait out.
        java.util.concurrent.atomic.AtomicInteger looks = new java.util.concurrent.atomic.AtomicInteger();
        when(ledger.attemptOfCall("cs-1")).thenReturn(Mono.defer(() -> looks.incrementAndGet() <= 4
                ? Mono.error(new org.springframework.dao.DataAccessResourceFailureException("connection refused"))
                : Mono.just(new AttemptOfCall("r-1", 1, 1, CALLER))));
        when(applier.apply(any())).thenReturn(Mono.just(CallbackApplier.Result.APPLIED));

        Disposable request = endpoint.status(null, """
                {"call_sid":"cs-1","call_status":"completed","sip_status":200,"customerData":{"crm_step":"bye"}}"""
                .getBytes(StandardCharsets.UTF_8)).subscribe();
        // jambonz's own time-out: it closes the request, and never sends this callback again.
        request.dispose();

        verify(applier, org.mockito.Mockito.timeout(10_000)).apply(argThat(callback ->
                callback.requestId().equals("r-1") && callback.attempt() == 1));
        assertThat(looks).hasValue(5);
    }

    @Test
    void aCallbackWhoseTagWasReplacedGoesThroughTheTopicTaggedAgainWhenTheCallWasNotDialledHere() {
        when(ledger.attemptOfCall("cs-2")).thenReturn(Mono.just(new AttemptOfCall("r-2", 3, 2, CALLER)));

        assertThat(post("""
                {"call_sid":"cs-2","call_status":"completed","customerData":{"crm_step":"bye"}}""")).isEqualTo(200);

        verify(applier, never()).apply(any());
        verify(records).append(eq(CALLER), argThat(body -> {
            JambonzCallbackReader.Parsed read = JambonzCallbackReader.read(body);
            return read.requestId().equals("r-2") && read.attempt() == 3 && read.dial() == 2
                    && CALLER.equals(read.callerId()) && read.callSid().equals("cs-2");
        }));
    }

    @Test
    void aCallbackWhoseTagWasReplacedAndWhoseCallNoAttemptKnowsIsAnUnknownAttempt() {
        when(ledger.attemptOfCall("cs-3")).thenReturn(Mono.empty());
        when(applier.apply(any())).thenReturn(Mono.just(CallbackApplier.Result.APPLIED));

        assertThat(post("""
                {"call_sid":"cs-3","call_status":"completed","customerData":{"crm_step":"bye"}}""")).isEqualTo(404);

        verify(applier, never()).apply(any());
        verify(applier).countUnknown(argThat(callback -> callback.providerCallId().equals("cs-3")));
        verify(records, never()).append(any(), any());
    }

    @Test
    void withTagsSealedATagWithoutItsSealWhoseCallNoAttemptKnowsIsRefusedBeforeAnythingIsApplied() {
        endpoint = endpoint("key-new,key-old");
        // Before the create-call answer is stored, no attempt knows the call: the tag alone would name the attempt.
        when(ledger.attemptOfCall("cs-1")).thenReturn(Mono.empty());
        when(applier.apply(any())).thenReturn(Mono.just(CallbackApplier.Result.APPLIED));
        String otherAttempts = TagSeal.of("key-new").seal("r-1", 2, 1, "voice-gateway", CALLER);

        for (String seal : new String[] {null, otherAttempts, "garbage"}) {
            ResponseEntity<Object> answer = answer(sealed(seal));
            assertThat(answer.getStatusCode().value()).isEqualTo(403);
            assertThat(answer.getBody()).isInstanceOfSatisfying(ProblemDetail.class, problem -> assertThat(
                    problem.getProperties()).containsEntry("field", "customerData.seal"));
        }

        verify(applier, never()).apply(any());
        verify(records, never()).append(any(), any());
        assertThat(registry.counter("dialer.dispatcher.callbacks.rejected", "reason", "seal").count()).isEqualTo(3);
    }

    @Test
    void withTagsSealedASealedTagWithoutACallSidIsRefusedForNothingWouldBindItToItsCall() {
        endpoint = endpoint("key-new");
        String seal = TagSeal.of("key-new").seal("r-1", 1, 1, "voice-gateway", CALLER);

        ResponseEntity<Object> answer = answer(sealed(seal).replace("\"call_sid\":\"cs-1\",", ""));

        assertThat(answer.getStatusCode().value()).isEqualTo(400);
        assertThat(answer.getBody()).isInstanceOfSatisfying(ProblemDetail.class, problem -> assertThat(
                problem.getProperties()).containsEntry("field", "call_sid"));
        verify(applier, never()).apply(any());
        verify(records, never()).append(any(), any());
    }

    @Test
    void withTagsSealedATagWithoutItsSealIsKnownByItsCallAsAReplacedTagIs() {
        endpoint = endpoint("key-new");
        when(ledger.attemptOfCall("cs-1")).thenReturn(Mono.just(new AttemptOfCall("r-1", 1, 1, CALLER)));
        when(applier.apply(any())).thenReturn(Mono.just(CallbackApplier.Result.APPLIED));

        assertThat(post(sealed(null).replace("\"attempt\":1", "\"attempt\":7"))).isEqualTo(200);

        verify(applier).apply(argThat(callback -> callback.requestId().equals("r-1") && callback.attempt() == 1
                && callback.callBound()));
    }

    @Test
    void withTagsSealedATagSealedUnderEitherKeyOfARotationIsApplied() {
        endpoint = endpoint("key-new,key-old");
        when(applier.apply(any())).thenReturn(Mono.just(CallbackApplier.Result.APPLIED));

        assertThat(post(sealed(TagSeal.of("key-new").seal("r-1", 1, 1, "voice-gateway", CALLER)))).isEqualTo(200);
        assertThat(post(sealed(TagSeal.of("key-old").seal("r-1", 1, 1, "voice-gateway", CALLER)))).isEqualTo(200);

        verify(applier, times(2)).apply(any());
    }

    @Test
    void withTagsSealedACallbackWhoseTagTheCallsApplicationReplacedIsStillKnownByItsCall() {
        endpoint = endpoint("key-new");
        when(ledger.attemptOfCall("cs-1")).thenReturn(Mono.just(new AttemptOfCall("r-1", 1, 1, CALLER)));
        when(applier.apply(any())).thenReturn(Mono.just(CallbackApplier.Result.APPLIED));

        assertThat(post("""
                {"call_sid":"cs-1","call_status":"completed","sip_status":200,"customerData":{"crm_step":"bye"}}"""))
                .isEqualTo(200);

        verify(applier).apply(any());
    }

    /** The call's completed callback with our tag for request r-1, attempt 1, dial 1, and {@code seal} (none: null). */
    private static String sealed(String seal) {
        return """
                {"call_sid":"cs-1","call_status":"completed","sip_status":200,
                 "customerData":{"request_id":"r-1","attempt":1,"dial":1,"carrier":"voice-gateway",
                 "caller_id":"%s"%s}}""".formatted(CALLER, seal == null ? "" : ",\"seal\":\"" + seal + "\"");
    }

    private double fallbacks(String reason) {
        return registry.counter(VoiceGatewayStatusEndpoint.FALLBACKS, "reason", reason).count();
    }

    private static Set<Integer> allPartitions() {
        return IntStream.range(0, 12).boxed().collect(Collectors.toSet());
    }

    private int post() {
        return post(BODY);
    }

    private int post(String body) {
        return answer(body).getStatusCode().value();
    }

    private ResponseEntity<Object> answer(String body) {
        ResponseEntity<Object> answer = endpoint.status(null, body.getBytes(StandardCharsets.UTF_8))
                .block(Duration.ofSeconds(5));
        assertThat(answer).isNotNull();
        return answer;
    }
}
