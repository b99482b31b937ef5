package dev.dialer.api.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class AcknowledgedPublisherTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final KafkaPublisher kafka = KafkaPublisher.create(KafkaSettings.of("127.0.0.1:" + closedPort()),
            "acknowledged-publisher-test", Duration.ofMillis(400));
    private final AcknowledgedPublisher publisher =
            new AcknowledgedPublisher(kafka, Duration.ofMillis(400), Duration.ofMillis(1500), registry);

    /** A command whose record, with its key, counts 61 bytes against the budget. */
    private static final List<OutboundRecord> SIXTY_ONE_BYTES = List.of(OutboundRecord.of(Topics.CALL_COMMANDS,
            "+918068281234", new byte[48]));

    @AfterEach
    void closeProducer() {
        kafka.close();
    }

    @Test
    void turnsAMissingAcknowledgementInto503WithRetryAfter() {
        OutboundRecord record = OutboundRecord.of(Topics.CALL_COMMANDS, "+918068281234", "{}".getBytes());

        publisher.publishAll(List.of(record, record))
                .as(StepVerifier::create)
                .expectErrorSatisfies(error -> {
                    assertThat(error).isInstanceOf(ApiProblem.class);
                    ApiProblem problem = (ApiProblem) error;
                    assertThat(problem.getStatusCode().value()).isEqualTo(503);
                    assertThat(problem.getBody().getType()).isEqualTo(Problems.UNAVAILABLE);
                    // whole seconds, never 0 (a client would retry at once)
                    assertThat(problem.getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("1");
                    // The records may yet be stored: no promise that they were not, nor that a plain retry is safe.
                    assertThat(problem.getBody().getDetail()).startsWith("Kafka did not acknowledge the request")
                            .contains("may still take effect", "same Idempotency-Key")
                            .doesNotContain("could not be queued");
                })
                .verify(Duration.ofSeconds(15));

        assertThat(registry.find("dialer.api.produce.latency").tag("outcome", "failed").timer().count())
                .isEqualTo(1);
    }

    /**
     * Records waiting for Kafka's acknowledgement are held in memory: past the budget a request is refused at once,
     * saying nothing of it was queued; once the waiting ones are done, the budget is free again.
     */
    @Test
    void aRequestWhoseRecordsWouldHoldMoreThanTheBudgetIsRefusedAtOnceWithNothingPublished() {
        // The first request must still wait when the second comes: timeouts a loaded machine cannot outrun.
        KafkaPublisher slow = neverAnswering("acknowledged-publisher-budget-test");
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        AcknowledgedPublisher budgeted = budgetOf100Bytes(slow, Duration.ofSeconds(3), meters);
        OutboundRecord record = SIXTY_ONE_BYTES.get(0);

        StepVerifier.create(budgeted.publishAll(SIXTY_ONE_BYTES).then(Mono.just("first")).onErrorReturn("first")
                        .zipWith(budgeted.publishAll(SIXTY_ONE_BYTES).then(Mono.just("second"))
                                .onErrorResume(ApiProblem.class, problem -> Mono.just(problem.getBody().getDetail()))))
                .assertNext(answers -> {
                    assertThat(answers.getT1()).isEqualTo("first");
                    assertThat(answers.getT2()).as("refused at once, while the first waited")
                            .isEqualTo(AcknowledgedPublisher.BUDGET_SPENT);
                })
                .verifyComplete();
        assertThat(refused(meters, "budget")).isEqualTo(1);
        // The first request's bytes are given back once the producer gives its record up (its delivery timeout).
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(bytesInFlight(meters)).isZero());

        // Free again: the next one waits for Kafka (and times out: the broker here never answers).
        expectNotAcknowledged(budgeted.publishAll(SIXTY_ONE_BYTES));
        // One larger than the whole budget goes through when nothing else waits: once the producer has given up the
        // last request's record too, which may come after that request's answer.
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(bytesInFlight(meters)).isZero());
        expectNotAcknowledged(budgeted.publishAll(List.of(record, record, record)));
        assertThat(refused(meters, "budget")).isEqualTo(1);
        slow.close();
    }

    /**
     * A request's records are held against the budget until the producer is done with them, not until its caller stops
     * waiting: the producer keeps them in its buffer meanwhile, and a budget given back early would let other requests
     * fill that buffer and block the instance's every publish.
     */
    @Test
    void theBudgetHoldsARequestsRecordsUntilTheProducerIsDoneWithThemNotUntilItsCallerStopsWaiting() {
        // The producer gives a record up after 3 s; the caller waits 300 ms.
        KafkaPublisher slow = neverAnswering("acknowledged-publisher-held-test");
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        AcknowledgedPublisher budgeted = budgetOf100Bytes(slow, Duration.ofMillis(300), meters);

        expectNotAcknowledged(budgeted.publishAll(SIXTY_ONE_BYTES));

        assertThat(bytesInFlight(meters)).as("still in the producer").isEqualTo(61);
        expectRefused(budgeted.publishAll(SIXTY_ONE_BYTES), AcknowledgedPublisher.BUDGET_SPENT);
        // Given back once the producer gave the record up.
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(bytesInFlight(meters)).isZero());

        // A caller that goes away (the client hung up) does not give the bytes back either.
        budgeted.publishAll(SIXTY_ONE_BYTES).subscribe().dispose();
        assertThat(bytesInFlight(meters)).isEqualTo(61);
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(bytesInFlight(meters)).isZero());
        slow.close();
    }

    /**
     * One account's sends hold at most its share of the budget: past it, its next send is refused at once while another
     * account's still goes through.
     */
    @Test
    void anAccountsSendsHoldNoMoreThanItsShareOfTheBudget() {
        KafkaPublisher slow = neverAnswering("acknowledged-publisher-share-test");
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        AcknowledgedPublisher shared = budgetOf200Bytes(slow, meters);

        // The first send of acc-a waits for Kafka (which never answers here) while the others come.
        shared.publishSend(SIXTY_ONE_BYTES, true, "acc-a").subscribe(done -> { }, error -> { });
        expectRefused(shared.publishSend(SIXTY_ONE_BYTES, true, "acc-a"), AcknowledgedPublisher.SHARE_SPENT);
        assertThat(bytesInFlight(meters)).as("the refused send holds nothing").isEqualTo(61);
        expectNotAcknowledged(shared.publishSend(SIXTY_ONE_BYTES, true, "acc-b"));

        assertThat(refused(meters, "account_share")).isEqualTo(1);
        assertThat(refused(meters, "budget")).isZero();
        // Given back with the records: acc-a's next send waits for Kafka again.
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(bytesInFlight(meters)).isZero());
        expectNotAcknowledged(shared.publishSend(SIXTY_ONE_BYTES, true, "acc-a"));
        slow.close();
    }

    /**
     * Sends together hold at most three quarters of the budget: a cancel or a DNC change still gets through while
     * sends of several accounts fill what they may; and a send with nothing to publish is never refused.
     */
    @Test
    void sendsTogetherLeaveRoomForTheRequestsThatAreNotSends() {
        KafkaPublisher slow = neverAnswering("acknowledged-publisher-sends-test");
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        AcknowledgedPublisher shared = budgetOf200Bytes(slow, meters);

        shared.publishSend(SIXTY_ONE_BYTES, true, "acc-a").subscribe(done -> { }, error -> { });
        shared.publishSend(SIXTY_ONE_BYTES, true, "acc-b").subscribe(done -> { }, error -> { });
        // 183 bytes of sends would pass the 150 they may hold.
        expectRefused(shared.publishSend(SIXTY_ONE_BYTES, true, "acc-c"), AcknowledgedPublisher.BUDGET_SPENT);
        StepVerifier.create(shared.publishSend(List.of(), true, "acc-a")).verifyComplete();
        // A cancel is not a send: it waits for Kafka (which never answers here), not refused.
        expectNotAcknowledged(shared.publishAll(SIXTY_ONE_BYTES, "the cancel may still take effect"));
        slow.close();
    }

    /**
     * A publisher on {@code slow} holding at most 100 bytes while Kafka acknowledges, waiting {@code ackTimeout}, its
     * meters in {@code meters}: a registry of its own, as a gauge of the same name in the class's registry would be
     * the other publisher's.
     */
    private static AcknowledgedPublisher budgetOf100Bytes(KafkaPublisher slow, Duration ackTimeout,
                                                          SimpleMeterRegistry meters) {
        return new AcknowledgedPublisher(slow, ackTimeout, Duration.ofMillis(1500), 100, 100, meters);
    }

    /** A publisher to a broker that is not there: a record waits until its delivery timeout, 3 s. */
    private static KafkaPublisher neverAnswering(String clientId) {
        return KafkaPublisher.create(KafkaSettings.of("127.0.0.1:" + closedPort()), clientId, Duration.ofSeconds(3));
    }

    /** As {@link #budgetOf100Bytes}, with a budget of 200 bytes of which an account's sends may hold 100. */
    private static AcknowledgedPublisher budgetOf200Bytes(KafkaPublisher slow, SimpleMeterRegistry meters) {
        return new AcknowledgedPublisher(slow, Duration.ofSeconds(3), Duration.ofMillis(1500), 200, 100, meters);
    }

    /** The request is refused at once (Kafka never answers here, so no acknowledgement could end it first). */
    private static void expectRefused(Mono<Void> request, String detail) {
        StepVerifier.create(request)
                .expectErrorSatisfies(error -> assertThat(((ApiProblem) error).getBody().getDetail()).isEqualTo(detail))
                .verify(Duration.ofSeconds(5));
    }

    /** The request waits for Kafka, which never answers here: it is answered the 503 of a late acknowledgement. */
    private static void expectNotAcknowledged(Mono<Void> request) {
        StepVerifier.create(request)
                .expectErrorSatisfies(error -> assertThat(((ApiProblem) error).getBody().getDetail())
                        .startsWith("Kafka did not acknowledge the request"))
                .verify(Duration.ofSeconds(15));
    }

    private static double refused(SimpleMeterRegistry meters, String reason) {
        return meters.get("dialer.api.produce.refused").tag("reason", reason).counter().count();
    }

    private static double bytesInFlight(SimpleMeterRegistry meters) {
        return meters.get("dialer.api.produce.bytes.in.flight").gauge().value();
    }

    @Test
    void aRefusalOfOneOfSeveralRecordsDoesNotSayThatNothingWasQueued() {
        ApiProblem several = (ApiProblem) publisher.unavailable(new RecordTooLargeException("too large"), 2);
        ApiProblem one = (ApiProblem) publisher.unavailable(new RecordTooLargeException("too large"), 1);

        assertThat(several.getStatusCode().value()).isEqualTo(503);
        assertThat(several.getBody().getDetail()).contains("may have stored others", "same Idempotency-Key")
                .doesNotContain("could not be queued");
        assertThat(one.getBody().getDetail()).startsWith("The request could not be queued");
    }

    @Test
    void aSendWithoutAKeyWhoseOneRecordWasRefusedIsToldNothingWasQueued() {
        RecordTooLargeException refusal = new RecordTooLargeException("too large");
        String withoutKey = AcknowledgedPublisher.SENT_WITHOUT_KEY;

        assertThat(AcknowledgedPublisher.refusedWhole(withoutKey, refusal, 1)).isTrue();
        assertThat(AcknowledgedPublisher.refusedWhole(withoutKey, refusal, 2)).as("others may be stored").isFalse();
        assertThat(AcknowledgedPublisher.refusedWhole(withoutKey, new java.util.concurrent.TimeoutException(), 1))
                .as("acknowledged late: it may be stored").isFalse();
        assertThat(AcknowledgedPublisher.refusedWhole("The change did not take effect.", refusal, 1)).isFalse();
    }

    @Test
    void aRequestThatIsNoSendIsToldWhatBecameOfItAndNothingOfAnIdempotencyKey() {
        OutboundRecord record = OutboundRecord.of(Topics.WEBHOOK_CONFIG, "wh-1", "{}".getBytes());

        publisher.publishAll(List.of(record), "The change did not take effect.")
                .as(StepVerifier::create)
                .expectErrorSatisfies(error -> {
                    ApiProblem problem = (ApiProblem) error;
                    assertThat(problem.getStatusCode().value()).isEqualTo(503);
                    assertThat(problem.getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("1");
                    assertThat(problem.getBody().getDetail())
                            .isEqualTo("Kafka did not acknowledge the request within 400 ms. "
                                    + "The change did not take effect.");
                })
                .verify(Duration.ofSeconds(15));
        ApiProblem refused = (ApiProblem) publisher.unavailable(new RecordTooLargeException("too large"), 1,
                "The change did not take effect.");
        assertThat(refused.getBody().getDetail())
                .isEqualTo("Kafka refused the request's records. The change did not take effect.");
    }

    @Test
    void completesAtOnceWhenThereIsNothingToPublish() {
        publisher.publishAll(List.of()).as(StepVerifier::create).verifyComplete();
    }

    private static int closedPort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
