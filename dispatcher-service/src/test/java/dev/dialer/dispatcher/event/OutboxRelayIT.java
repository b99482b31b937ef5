package dev.dialer.dispatcher.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.FinalStatus;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.DispatcherFixture;
import dev.dialer.dispatcher.TestClock;
import dev.dialer.dispatcher.attempt.AttemptLedger;
import dev.dialer.infra.Infrastructure;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.context.Lifecycle;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;
import tools.jackson.databind.JsonNode;

/**
 * The outbox relay against real PostgreSQL and Kafka, with Kafka made unreachable for a while: the relay publishes to
 * a broker address nobody listens on, then to the real one.
 */
@SpringBootTest(properties = "spring.config.name=dispatcher-service")
@DirtiesContext
class OutboxRelayIT {

    private static final Duration WAIT = Duration.ofSeconds(40);

    @Autowired
    ApplicationContext context;

    @Autowired
    CallEvents events;

    @Autowired
    AttemptLedger ledger;

    @Autowired
    Outbox outbox;

    @Autowired
    ReactiveTransactionManager transactionManager;

    @Autowired
    KafkaPublisher reachable;

    @Autowired
    DatabaseClient db;

    @DynamicPropertySource
    static void infrastructure(DynamicPropertyRegistry registry) {
        DispatcherFixture.infrastructure(registry);
    }

    @Test
    void eventsWhosePublishFailedArePublishedOnceEachInOrderWhenKafkaIsBack() throws Exception {
        Lifecycle serviceRelay = stopServiceRelay();
        CallCommand command = command();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (KafkaPublisher unreachable = KafkaPublisher.create(KafkaSettings.of("127.0.0.1:1"), "unreachable",
                Duration.ofSeconds(1));
             EventReader reader = new EventReader(Infrastructure.shared().kafkaBootstrapServers())) {
            AtomicReference<KafkaPublisher> kafka = new AtomicReference<>(unreachable);
            OutboxRelay relay = new OutboxRelay(outbox, TransactionalOperator.create(transactionManager),
                    records -> kafka.get().publishEach(records), eventPartitions(), properties(), Clock.systemUTC(),
                    meters);

            ledger.recordRequest(command).block(WAIT);
            for (AttemptStatus status : List.of(AttemptStatus.QUEUED, AttemptStatus.INITIATED, AttemptStatus.RINGING)) {
                events.emit(command, event -> event.status(status), Retry.max(0)).block(WAIT);
            }
            events.finishOnce(command, FinalStatus.EXHAUSTED, event -> event, Retry.max(0)).block(WAIT);
            // A second ending of the same request stores nothing: one final per request.
            events.finishOnce(command, FinalStatus.ANSWERED, event -> event, Retry.max(0)).block(WAIT);

            relay.drain().block(WAIT);
            relay.drain().block(WAIT);
            assertThat(meters.counter("dialer.dispatcher.outbox.failures").count()).isEqualTo(2);
            assertThat(unsent(command.requestId())).isEqualTo(4);

            kafka.set(reachable);
            relay.drain().block(WAIT);

            assertThat(unsent(command.requestId())).isZero();
            await().atMost(WAIT).until(() -> reader.of(command.requestId()).size() >= 4);
            relay.drain().block(WAIT);
            List<JsonNode> published = reader.of(command.requestId());
            assertThat(published).hasSize(4);
            assertThat(published).extracting(event -> event.get("event_id").stringValue()).doesNotHaveDuplicates();
            assertThat(published).extracting(event -> event.get("status").stringValue())
                    .containsExactly("queued", "initiated", "ringing", "exhausted");
            assertThat(published).extracting(event -> event.get("sequence_number").longValue())
                    .containsExactly(1L, 2L, 3L, 4L);
            assertThat(meters.counter("dialer.dispatcher.outbox.published").count()).isEqualTo(4);
        } finally {
            serviceRelay.start();
        }
    }

    @Test
    void aPartitionThatTakesNoEventIsLeftForItsHoldWhileTheOthersArePublishedOnce() throws Exception {
        Lifecycle serviceRelay = stopServiceRelay();
        int partitions = eventPartitions().block(WAIT);
        CallCommand stuck = command();
        CallCommand other = commandOnAnotherPartition(stuck, partitions);
        int stalledPartition = KafkaPublisher.partitionOf(stuck.requestId(), partitions);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        TestClock clock = TestClock.at(Instant.now());
        AtomicInteger stuckSends = new AtomicInteger();
        AtomicReference<KafkaPublisher> stalledRoute = new AtomicReference<>();
        try (KafkaPublisher unreachable = KafkaPublisher.create(KafkaSettings.of("127.0.0.1:1"), "unreachable",
                Duration.ofSeconds(1));
             EventReader reader = new EventReader(Infrastructure.shared().kafkaBootstrapServers())) {
            stalledRoute.set(unreachable);
            // The stalled partition's records go to a broker nobody listens on, every other partition's to the real
            // one.
            OutboxRelay relay = new OutboxRelay(outbox, TransactionalOperator.create(transactionManager),
                    records -> routed(records, partitions, stalledPartition, stalledRoute.get(), stuckSends),
                    eventPartitions(), properties(Duration.ZERO, Duration.ofMinutes(1)), clock, meters);
            ledger.recordRequest(stuck).block(WAIT);
            ledger.recordRequest(other).block(WAIT);
            events.emit(stuck, event -> event.status(AttemptStatus.QUEUED), Retry.max(0)).block(WAIT);
            events.emit(other, event -> event.status(AttemptStatus.QUEUED), Retry.max(0)).block(WAIT);
            events.emit(stuck, event -> event.status(AttemptStatus.INITIATED), Retry.max(0)).block(WAIT);

            relay.drain().block(WAIT);

            assertThat(rows(other.requestId())).as("acknowledged, deleted").isZero();
            assertThat(rows(stuck.requestId())).as("not acknowledged, left").isEqualTo(2);
            assertThat(meters.get("dialer.dispatcher.outbox.stalled.partitions").gauge().value()).isOne();
            assertThat(meters.counter("dialer.dispatcher.outbox.unacknowledged").count()).isEqualTo(2);

            events.emit(other, event -> event.status(AttemptStatus.RINGING), Retry.max(0)).block(WAIT);
            events.emit(stuck, event -> event.status(AttemptStatus.RINGING), Retry.max(0)).block(WAIT);
            relay.drain().block(WAIT);
            // Another dispatcher's relay learns of the stall from the first one's finding.
            OutboxRelay another = new OutboxRelay(outbox, TransactionalOperator.create(transactionManager),
                    records -> routed(records, partitions, stalledPartition, stalledRoute.get(), stuckSends),
                    eventPartitions(), properties(Duration.ZERO, Duration.ofMinutes(1)), clock,
                    new SimpleMeterRegistry());
            another.drain().block(WAIT);

            assertThat(stuckSends).as("the stalled partition's events left while it is held, by either relay")
                    .hasValue(1);
            assertThat(rows(other.requestId())).isZero();
            await().atMost(WAIT).until(() -> reader.of(other.requestId()).size() >= 2);
            assertThat(reader.of(other.requestId())).as("each once, not again with every round")
                    .extracting(event -> event.get("status").stringValue()).containsExactly("queued", "ringing");

            // The partition takes events again, and its hold ends.
            stalledRoute.set(reachable);
            clock.advance(Duration.ofMinutes(1).plusSeconds(1));
            relay.drain().block(WAIT);
            // The next round finds none of its events held any longer: the stall ends.
            relay.drain().block(WAIT);

            assertThat(rows(stuck.requestId())).isZero();
            assertThat(meters.get("dialer.dispatcher.outbox.stalled.partitions").gauge().value()).isZero();
            await().atMost(WAIT).until(() -> reader.of(stuck.requestId()).size() >= 3);
            assertThat(reader.of(stuck.requestId())).as("in their order")
                    .extracting(event -> event.get("sequence_number").longValue()).containsExactly(1L, 2L, 3L);
            assertThat(reader.of(other.requestId())).hasSize(2);
        } finally {
            // The stall, recorded on this test's clock, would hold the partition's events from the service's relay.
            db.sql("DELETE FROM dispatch.stalled_event_partitions").then().block(WAIT);
            db.sql("UPDATE dispatch.outbox SET held_partition = NULL WHERE held_partition IS NOT NULL").then()
                    .block(WAIT);
            serviceRelay.start();
        }
    }

    /** Publishes the records of {@code partition} through {@code route}, the others through the real broker. */
    private Flux<KafkaPublisher.Outcome> routed(List<OutboundRecord> records, int partitions, int partition,
                                                KafkaPublisher route, AtomicInteger routedSends) {
        List<Integer> there = new ArrayList<>();
        List<Integer> here = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            (KafkaPublisher.partitionOf(records.get(i).key(), partitions) == partition ? there : here).add(i);
        }
        if (!there.isEmpty()) {
            routedSends.incrementAndGet();
        }
        return Flux.merge(sent(records, there, route), sent(records, here, reachable));
    }

    private static Flux<KafkaPublisher.Outcome> sent(List<OutboundRecord> records, List<Integer> indexes,
                                                     KafkaPublisher publisher) {
        return publisher.publishEach(indexes.stream().map(records::get).toList())
                .map(outcome -> new KafkaPublisher.Outcome(indexes.get(outcome.index()), outcome.failure()));
    }

    private static CallCommand commandOnAnotherPartition(CallCommand than, int partitions) {
        int partition = KafkaPublisher.partitionOf(than.requestId(), partitions);
        CallCommand other = command();
        while (KafkaPublisher.partitionOf(other.requestId(), partitions) == partition) {
            other = command();
        }
        return other;
    }

    @Test
    void publishedEventsAreDeletedWhenNoneIsKept() throws Exception {
        Lifecycle serviceRelay = stopServiceRelay();
        CallCommand command = command();
        try (EventReader reader = new EventReader(Infrastructure.shared().kafkaBootstrapServers())) {
            OutboxRelay relay = new OutboxRelay(outbox, TransactionalOperator.create(transactionManager),
                    reachable::publishEach, eventPartitions(), properties(Duration.ZERO), Clock.systemUTC(),
                    new SimpleMeterRegistry());
            ledger.recordRequest(command).block(WAIT);
            events.emit(command, event -> event.status(AttemptStatus.QUEUED), Retry.max(0)).block(WAIT);
            events.finishOnce(command, FinalStatus.EXHAUSTED, event -> event, Retry.max(0)).block(WAIT);
            assertThat(rows(command.requestId())).isEqualTo(2);

            relay.drain().block(WAIT);

            assertThat(rows(command.requestId())).as("published rows are deleted, not marked").isZero();
            await().atMost(WAIT).until(() -> reader.of(command.requestId()).size() >= 2);
            assertThat(reader.of(command.requestId())).extracting(event -> event.get("sequence_number").longValue())
                    .containsExactly(1L, 2L);
        } finally {
            serviceRelay.start();
        }
    }

    @Test
    void anEventTooLargeForTheTopicIsMovedAsideAndTheEventsAroundItArePublished() throws Exception {
        Lifecycle serviceRelay = stopServiceRelay();
        CallCommand command = command();
        String tooLarge = "it-large-" + UUID.randomUUID();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (EventReader reader = new EventReader(Infrastructure.shared().kafkaBootstrapServers())) {
            OutboxRelay relay = new OutboxRelay(outbox, TransactionalOperator.create(transactionManager),
                    reachable::publishEach, eventPartitions(), properties(Duration.ZERO), Clock.systemUTC(), meters);
            ledger.recordRequest(command).block(WAIT);
            events.emit(command, event -> event.status(AttemptStatus.QUEUED), Retry.max(0)).block(WAIT);
            // Larger than any record the topic or the producer takes, written between two events of another request.
            insertTooLarge(tooLarge);
            events.finishOnce(command, FinalStatus.EXHAUSTED, event -> event, Retry.max(0)).block(WAIT);

            relay.drain().block(WAIT);

            await().atMost(WAIT).until(() -> reader.of(command.requestId()).size() >= 2);
            assertThat(reader.of(command.requestId())).extracting(event -> event.get("status").stringValue())
                    .containsExactly("queued", "exhausted");
            assertThat(rows(tooLarge)).isZero();
            assertThat(db.sql("SELECT reason FROM dispatch.outbox_rejected WHERE request_id = $1")
                    .bind(0, tooLarge).map(row -> row.get(0, String.class)).all().collectList().block(WAIT))
                    .singleElement().asString().contains(Topics.CALL_EVENTS);
            assertThat(meters.counter("dialer.dispatcher.outbox.rejected").count()).isEqualTo(1);
            assertThat(meters.counter("dialer.dispatcher.outbox.failures").count()).isZero();
            assertThat(reader.of(tooLarge)).isEmpty();
        } finally {
            serviceRelay.start();
        }
    }

    @Test
    void anEventMovedAsideInARoundThatFailedIsToldOnceWhenALaterRoundMovesItForGood() {
        Lifecycle serviceRelay = stopServiceRelay();
        CallCommand command = command();
        String tooLarge = "it-large-" + UUID.randomUUID();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        AtomicInteger publishes = new AtomicInteger();
        try {
            OutboxRelay relay = new OutboxRelay(outbox, TransactionalOperator.create(transactionManager),
                    records -> publishes.getAndIncrement() == 0
                            ? Flux.error(new TimeoutException("broker away"))
                            : reachable.publishEach(records),
                    eventPartitions(), properties(Duration.ZERO), Clock.systemUTC(), meters);
            ledger.recordRequest(command).block(WAIT);
            events.emit(command, event -> event.status(AttemptStatus.QUEUED), Retry.max(0)).block(WAIT);
            insertTooLarge(tooLarge);

            relay.drain().block(WAIT);
            assertThat(publishes).as("the round that moved it aside tried to publish the event before it").hasValue(1);
            assertThat(rows(tooLarge)).as("the failed round took its move back").isEqualTo(1);
            assertThat(meters.counter("dialer.dispatcher.outbox.rejected").count()).isZero();
            relay.drain().block(WAIT);

            assertThat(rows(tooLarge)).isZero();
            assertThat(meters.counter("dialer.dispatcher.outbox.failures").count()).isEqualTo(1);
            assertThat(meters.counter("dialer.dispatcher.outbox.rejected").count()).isEqualTo(1);
        } finally {
            serviceRelay.start();
        }
    }

    @Test
    void keptEventsPastTheirRetentionArePurgedInOneTickThoughTheyFillSeveralBatches() {
        String old = "it-purge-old-" + UUID.randomUUID();
        String recent = "it-purge-recent-" + UUID.randomUUID();
        insertSent(old, 2_500, "2 hours");
        insertSent(recent, 3, "1 minute");
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        OutboxRelay relay = new OutboxRelay(outbox, TransactionalOperator.create(transactionManager),
                reachable::publishEach, eventPartitions(), properties(Duration.ofHours(1)), Clock.systemUTC(), meters);

        relay.measureAndPurge().block(WAIT);

        assertThat(rows(old)).as("sent two hours ago, kept one").isZero();
        assertThat(rows(recent)).as("sent a minute ago").isEqualTo(3);
        assertThat(meters.counter("dialer.dispatcher.outbox.purged").count()).isGreaterThanOrEqualTo(2_500);
    }

    @Test
    void theRelaysTransactionIsLimitedOnTheServerSoThatAGivenUpRoundCannotKeepItsLock() {
        TransactionalOperator transactions = TransactionalOperator.create(transactionManager);
        List<String> limits = transactions.transactional(outbox.tryRelayLock(Duration.ofSeconds(7))
                        .thenMany(db.sql("""
                                        SELECT current_setting('statement_timeout')
                                        UNION ALL SELECT current_setting('idle_in_transaction_session_timeout')""")
                                .map(row -> row.get(0, String.class)).all()))
                .collectList()
                .block(WAIT);
        assertThat(limits).containsExactly("7s", "7s");
    }

    @Test
    void aStateChangeRolledBackTakesItsEventWithIt() {
        CallCommand command = command();
        ledger.recordRequest(command).block(WAIT);

        AtomicLong written = new AtomicLong(-1);
        Mono<Object> failingChange = events.emit(command, event -> event.status(AttemptStatus.QUEUED), Retry.max(0))
                .then(outboxRows(command.requestId()).doOnNext(written::set))
                .then(Mono.error(new IllegalStateException("the change failed after its event was written")));

        assertThatThrownBy(() -> events.atomically(failingChange).block(WAIT))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the change failed after its event was written");
        assertThat(written).as("the event, inside the change's transaction").hasValue(1);
        assertThat(outboxRows(command.requestId()).block(WAIT)).isZero();
    }

    @Test
    void anEventIsCountedOnceItsTransactionCommitsAndOnlyOnceWhenTheTransactionIsRepeated() {
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        CallEvents counting = new CallEvents(outbox, context.getBean(OutboxRelay.class), transactionManager, meters);
        CallCommand command = command();
        ledger.recordRequest(command).block(WAIT);
        AtomicLong tries = new AtomicLong();
        // Fails after its event was written the first time, as a transaction that hit a deadlock or a serialization
        // failure does; the caller repeats the whole transaction.
        Mono<CallEvent> change = counting.emit(command, event -> event.status(AttemptStatus.QUEUED), Retry.max(0))
                .flatMap(event -> tries.incrementAndGet() == 1
                        ? Mono.error(new IllegalStateException("rolled back")) : Mono.just(event));

        assertThatThrownBy(() -> counting.atomically(change).block(WAIT)).hasMessage("rolled back");
        assertThat(meters.counter("dialer.dispatcher.events", "type", "call.status").count())
                .as("rolled back: nothing stored, nothing counted").isZero();
        // The service's relay would publish the committed event and may delete its row before it is counted.
        Lifecycle serviceRelay = stopServiceRelay();
        try {
            counting.atomically(change).block(WAIT);
            assertThat(outboxRows(command.requestId()).block(WAIT)).isOne();
        } finally {
            serviceRelay.start();
        }

        assertThat(tries).hasValue(2);
        assertThat(meters.counter("dialer.dispatcher.events", "type", "call.status").count()).isOne();
        counting.emit(command, event -> event.status(AttemptStatus.INITIATED), Retry.max(0)).block(WAIT);
        assertThat(meters.counter("dialer.dispatcher.events", "type", "call.status").count())
                .as("outside a transaction, counted at once").isEqualTo(2);
    }

    /**
     * Stops the service's own relay, so that only the relay under test publishes, and waits until a round it had
     * running has ended (its cancel rolls back asynchronously, and holds the relay lock until then).
     */
    private Lifecycle stopServiceRelay() {
        Lifecycle serviceRelay = context.getBean("outboxRelayHealthIndicator", Lifecycle.class);
        serviceRelay.stop();
        TransactionalOperator transactions = TransactionalOperator.create(transactionManager);
        try {
            await().atMost(WAIT).until(() -> transactions.transactional(outbox.tryRelayLock(WAIT)).block(WAIT));
        } catch (RuntimeException | Error failed) {
            // The caller's restart is not reached: the relay runs again for the class's other tests.
            serviceRelay.start();
            throw failed;
        }
        // The test's relay takes every row of the outbox: events an earlier class of this fork stored as its context
        // closed, after its relay had stopped (a cancel acted on again at the end of CancelAtTheCarrierIT), would be
        // published and counted with the test's own.
        db.sql("DELETE FROM dispatch.outbox").then().block(WAIT);
        return serviceRelay;
    }

    private Mono<Long> outboxRows(String requestId) {
        return db.sql("SELECT count(*) FROM dispatch.outbox WHERE request_id = $1").bind(0, requestId)
                .map(row -> row.get(0, Long.class)).one();
    }

    private long unsent(String requestId) {
        return db.sql("SELECT count(*) FROM dispatch.outbox WHERE request_id = $1 AND sent_at IS NULL")
                .bind(0, requestId).map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    /** An event of {@code requestId} larger than any record the events topic or the producer takes. */
    private void insertTooLarge(String requestId) {
        db.sql("""
                        INSERT INTO dispatch.outbox (event_id, request_id, event_type, sequence_number, payload)
                        VALUES ($1, $1, 'call.status', 1, jsonb_build_object('pad', repeat('x', 1200000)))""")
                .bind(0, requestId).then().block(WAIT);
    }

    private long rows(String requestId) {
        return db.sql("SELECT count(*) FROM dispatch.outbox WHERE request_id = $1")
                .bind(0, requestId).map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    /** {@code count} events of {@code requestId} written and published {@code ago} (an interval). */
    private void insertSent(String requestId, int count, String ago) {
        db.sql("""
                        INSERT INTO dispatch.outbox (event_id, request_id, event_type, sequence_number, payload,
                                                     created_at, sent_at)
                        SELECT $1 || '-' || g, $1, 'call.status', g, '{}'::jsonb, now() - $3::interval,
                               now() - $3::interval
                          FROM generate_series(1, $2) g""")
                .bind(0, requestId).bind(1, count).bind(2, ago)
                .then().block(WAIT);
    }

    /** Published events kept an hour: the test reads whether what was stored was sent. */
    private static OutboxProperties properties() {
        return properties(Duration.ofHours(1));
    }

    /** A partition whose events were not acknowledged is tried again at the next round. */
    private static OutboxProperties properties(Duration retention) {
        return properties(retention, Duration.ofMillis(1));
    }

    private static OutboxProperties properties(Duration retention, Duration stalledHold) {
        return new OutboxProperties(Duration.ofSeconds(1), 100, Duration.ofSeconds(5), Duration.ofSeconds(10),
                Duration.ofSeconds(20), retention, null, stalledHold);
    }

    private Mono<Integer> eventPartitions() {
        return reachable.partitionCount(Topics.CALL_EVENTS);
    }

    private static CallCommand command() {
        return new CallCommand(CallCommand.VERSION, "it-" + UUID.randomUUID(), "acc-outbox", "+4930111222",
                "+4915112345678", null, "welcome.wav", null, 0, 0, 1, null, null, Map.of(), null, null, null, null,
                Map.of(), Instant.now());
    }

    /** Reads {@code dialer.call.events} from the beginning on a background thread. */
    private static final class EventReader implements AutoCloseable {

        private final KafkaConsumer<String, String> consumer;
        private final List<String[]> records = new CopyOnWriteArrayList<>();
        private final Thread thread;

        EventReader(String bootstrap) {
            consumer = new KafkaConsumer<>(Map.of(
                    ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                    ConsumerConfig.GROUP_ID_CONFIG, "it-outbox-" + UUID.randomUUID(),
                    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                    ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                    ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class));
            consumer.subscribe(List.of(Topics.CALL_EVENTS));
            thread = new Thread(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        consumer.poll(Duration.ofMillis(200))
                                .forEach(r -> records.add(new String[] {r.key(), r.value()}));
                    }
                } catch (org.apache.kafka.common.errors.WakeupException e) {
                    // closing
                } finally {
                    consumer.close();
                }
            }, "it-outbox-events");
            thread.setDaemon(true);
            thread.start();
        }

        List<JsonNode> of(String requestId) {
            List<JsonNode> events = new ArrayList<>();
            for (String[] record : records) {
                if (requestId.equals(record[0])) {
                    events.add(Contract.mapper().readTree(record[1]));
                }
            }
            return events;
        }

        @Override
        public void close() {
            consumer.wakeup();
        }
    }
}
