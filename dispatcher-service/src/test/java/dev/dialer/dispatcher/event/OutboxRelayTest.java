package dev.dialer.dispatcher.event;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.dispatcher.TestClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.transaction.reactive.TransactionCallback;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The outbox relay's rounds and its readiness on virtual time, against an in-memory outbox whose statements (and
 * commit) can be made to hang: a connection that neither answers nor fails.
 */
class OutboxRelayTest {

    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration ROUND_TIMEOUT = Duration.ofMinutes(1);
    private static final Duration STALE_AFTER = Duration.ofMinutes(2);
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final int PARTITIONS = 12;

    private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
    private final InMemoryOutbox outbox = new InMemoryOutbox();
    private final List<String> published = new CopyOnWriteArrayList<>();
    private final AtomicBoolean commitHangs = new AtomicBoolean();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final OutboxRelay relay = new OutboxRelay(outbox, new InMemoryTransactions(), this::publish,
            Mono.just(PARTITIONS), properties(), TestClock.following(time), meters);

    @AfterEach
    void virtualTimeOff() {
        VirtualTimeScheduler.reset();
    }

    @Test
    void aRoundWhoseLockQueryNeverAnswersIsGivenUpAfterTheRoundTimeoutAndALaterRoundPublishes() {
        outbox.add(2);
        outbox.lockHangsOnce();

        StepVerifier.withVirtualTime(relay::run, () -> time, Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(POLL)
                .thenAwait(ROUND_TIMEOUT.minusMillis(1))
                .then(() -> assertThat(published).isEmpty())
                .thenAwait(Duration.ofMillis(1))
                .then(() -> {
                    assertThat(published).containsExactly("event-1", "event-2");
                    assertThat(outbox.unsentCount()).isZero();
                    assertThat(meters.counter("dialer.dispatcher.outbox.failures").count()).isEqualTo(1);
                    assertThat(meters.counter("dialer.dispatcher.outbox.round.timeouts").count()).isEqualTo(1);
                })
                .thenCancel()
                .verify(WAIT);
    }

    @Test
    void aRoundWhoseCommitNeverAnswersIsGivenUpAndItsEventsArePublishedAgainByALaterRound() {
        outbox.add(2);
        commitHangs.set(true);

        StepVerifier.withVirtualTime(relay::run, () -> time, Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(POLL)
                .then(() -> {
                    // Kafka took them; the transaction that marks them sent did not end.
                    assertThat(published).containsExactly("event-1", "event-2");
                    commitHangs.set(false);
                })
                .thenAwait(ROUND_TIMEOUT)
                .then(() -> {
                    // At least once: the same events again, which consumers drop by event id.
                    assertThat(published).containsExactly("event-1", "event-2", "event-1", "event-2");
                    assertThat(outbox.unsentCount()).isZero();
                    assertThat(meters.counter("dialer.dispatcher.outbox.round.timeouts").count()).isEqualTo(1);
                })
                .thenCancel()
                .verify(WAIT);
    }

    @Test
    void readinessGoesDownWhenRoundsStallWithEventsPendingAndUpAgainOnceARoundCompletes() {
        outbox.add(3);
        outbox.lockHangs(true);
        OutboxRelayLifecycle lifecycle = startedOnVirtualTime();
        try {
            time.advanceTimeBy(POLL);
            assertThat(lifecycle.health().getStatus()).isEqualTo(Status.UP);

            time.advanceTimeBy(STALE_AFTER.plusSeconds(5));
            Health stalled = lifecycle.health();
            assertThat(stalled.getStatus()).isEqualTo(Status.DOWN);
            assertThat(stalled.getDetails()).containsEntry("pending", 3L)
                    .containsEntry("lastProgress", "1970-01-01T00:00:00.500Z");
            assertThat(meters.get("dialer.dispatcher.outbox.progress.age").gauge().value()).isEqualTo(125.0);

            outbox.lockHangs(false);
            // The round hanging now is given up at its timeout; the next one publishes.
            time.advanceTimeBy(ROUND_TIMEOUT);
            assertThat(published).hasSize(3);
            assertThat(lifecycle.health().getStatus()).isEqualTo(Status.UP);
        } finally {
            lifecycle.stop();
        }
    }

    @Test
    void readinessStaysUpWhileRoundsHangWithNothingPending() {
        outbox.lockHangs(true);
        OutboxRelayLifecycle lifecycle = startedOnVirtualTime();
        try {
            time.advanceTimeBy(STALE_AFTER.multipliedBy(3));

            assertThat(lifecycle.health().getStatus()).isEqualTo(Status.UP);
        } finally {
            lifecycle.stop();
        }
    }

    @Test
    void aRelayThatNeverGetsTheLockStaysUpWhileAnotherPublishesAndGoesDownWhenTheBacklogStopsMoving() {
        outbox.add(10);
        outbox.lockHeldElsewhere.set(true);
        OutboxRelayLifecycle lifecycle = startedOnVirtualTime();
        try {
            // Another dispatcher's relay sends one event a minute.
            for (int minute = 0; minute < 5; minute++) {
                time.advanceTimeBy(Duration.ofMinutes(1));
                outbox.sendOldestElsewhere();
            }
            assertThat(lifecycle.health().getStatus()).isEqualTo(Status.UP);

            // It stops, holding the lock: nothing leaves the outbox.
            time.advanceTimeBy(STALE_AFTER.plusSeconds(5));

            assertThat(lifecycle.health().getStatus()).isEqualTo(Status.DOWN);
            assertThat(published).isEmpty();
        } finally {
            lifecycle.stop();
        }
    }

    @Test
    void keptEventsArePurgedABatchAtATimeUntilABatchComesBackShort() {
        outbox.purgeAnswers(1_000L, 1_000L, 400L, 0L);

        relay.measureAndPurge().block(WAIT);

        assertThat(outbox.purgesBefore()).hasSize(3);
        assertThat(meters.counter("dialer.dispatcher.outbox.purged").count()).isEqualTo(2_400);
    }

    @Test
    void publishedEventsAreDeletedAndNothingIsPurgedWhenNoneIsKept() {
        OutboxRelay deleting = new OutboxRelay(outbox, new InMemoryTransactions(), this::publish, Mono.just(PARTITIONS),
                new OutboxProperties(POLL, 100, Duration.ofSeconds(30), ROUND_TIMEOUT, STALE_AFTER, Duration.ZERO,
                        null, null),
                TestClock.following(time), new SimpleMeterRegistry());
        outbox.add(3);
        outbox.purgeAnswers(1_000L);

        deleting.drain().block(WAIT);
        deleting.measureAndPurge().block(WAIT);

        assertThat(published).hasSize(3);
        assertThat(outbox.unsentCount()).isZero();
        assertThat(outbox.deleted()).isEqualTo(3);
        assertThat(outbox.purgesBefore()).isEmpty();
    }

    @Test
    void eventsOfAPartitionThatNeverAnswersAreLeftAfterThePatienceWhileTheOthersGoOn() {
        outbox.add(8);
        int silent = KafkaPublisher.partitionOf("request-1", PARTITIONS);
        List<String> silentOnes = IntStream.rangeClosed(1, 8).mapToObj(id -> "request-" + id)
                .filter(request -> KafkaPublisher.partitionOf(request, PARTITIONS) == silent).toList();
        assertThat(silentOnes).hasSizeLessThan(8);
        AtomicInteger triedSilent = new AtomicInteger();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        OutboxRelay relay = new OutboxRelay(outbox, new InMemoryTransactions(), records -> {
            List<KafkaPublisher.Outcome> answered = new ArrayList<>();
            for (int i = 0; i < records.size(); i++) {
                if (KafkaPublisher.partitionOf(records.get(i).key(), PARTITIONS) != silent) {
                    published.add(records.get(i).key());
                    answered.add(new KafkaPublisher.Outcome(i, null));
                }
            }
            boolean anySilent = answered.size() < records.size();
            if (anySilent) {
                triedSilent.incrementAndGet();
            }
            return Flux.concat(Flux.fromIterable(answered), anySilent ? Flux.never() : Flux.empty());
        }, Mono.just(PARTITIONS), properties(), TestClock.following(time), meters);

        StepVerifier.withVirtualTime(relay::run, () -> time, Long.MAX_VALUE)
                .expectSubscription()
                .thenAwait(POLL)
                .thenAwait(OutboxProperties.DEFAULT_PUBLISH_PATIENCE)
                .then(() -> {
                    assertThat(outbox.unsentRequests()).as("only the silent partition's left")
                            .containsExactlyElementsOf(silentOnes);
                    assertThat(meters.get("dialer.dispatcher.outbox.stalled.partitions").gauge().value()).isOne();
                    assertThat(meters.counter("dialer.dispatcher.outbox.unacknowledged").count())
                            .isEqualTo(silentOnes.size());
                    // Another event of a request on the silent partition, and one of a new request.
                    outbox.add("request-1");
                    outbox.add(1);
                })
                .thenAwait(POLL.multipliedBy(4))
                .then(() -> {
                    assertThat(published).as("the others once each, and the new one")
                            .hasSize(8 - silentOnes.size()
                                    + (KafkaPublisher.partitionOf("request-10", PARTITIONS) == silent ? 0 : 1))
                            .doesNotHaveDuplicates();
                    assertThat(triedSilent).as("left while held").hasValue(1);
                })
                .thenAwait(OutboxProperties.DEFAULT_STALLED_HOLD)
                .then(() -> assertThat(triedSilent).as("tried again once the hold is over").hasValue(2))
                .thenCancel()
                .verify(WAIT);
    }

    @Test
    void anEventBehindAnEarlierEventOfItsRequestHeldIsHeldWithItWhateverItsPartitionIsNow() {
        // request-1's first event was held for partition 40, as the topic was counted before it grew.
        outbox.add("request-1");
        outbox.hold(new Long[] {1L}, new Integer[] {40}).block(WAIT);
        outbox.stall(new Integer[] {40}, Instant.EPOCH.plus(Duration.ofHours(1))).block(WAIT);
        outbox.add("request-1");
        outbox.add("request-2");

        relay.drain().block(WAIT);

        assertThat(published).as("request-1's later event waits behind its earlier one").containsExactly("event-3");
        assertThat(outbox.unsentRequests()).containsExactly("request-1", "request-1");
    }

    @Test
    void thePublishPatienceIsFiveSecondsOrHalfThePublishTimeoutAndShorterThanIt() {
        assertThat(properties().publishPatience()).isEqualTo(Duration.ofSeconds(5));
        assertThat(properties().stalledHold()).isEqualTo(Duration.ofSeconds(30));
        assertThat(new OutboxProperties(POLL, 100, Duration.ofSeconds(4), ROUND_TIMEOUT, STALE_AFTER, Duration.ZERO,
                null, null).publishPatience()).isEqualTo(Duration.ofSeconds(2));
        assertThatThrownBy(() -> new OutboxProperties(POLL, 100, Duration.ofSeconds(30), ROUND_TIMEOUT,
                STALE_AFTER, Duration.ZERO, Duration.ofSeconds(30), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("publish-timeout");
    }

    @Test
    void refusesANegativeRetention() {
        assertThatThrownBy(() -> new OutboxProperties(POLL, 100, Duration.ofSeconds(30), ROUND_TIMEOUT,
                STALE_AFTER, Duration.ofSeconds(-1), null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("retention");
    }

    @Test
    void refusesARoundTimeoutNotLongerThanThePublishTimeout() {
        assertThatThrownBy(() -> new OutboxProperties(POLL, 100, Duration.ofSeconds(30), Duration.ofSeconds(30),
                STALE_AFTER, Duration.ofHours(1), null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("round-timeout");
    }

    @Test
    void derivesTheRoundTimeoutAndStaleAfterFromTheirPredecessorsWhenUnset() {
        OutboxProperties longPublish = new OutboxProperties(POLL, 100, Duration.ofSeconds(90), null, null,
                Duration.ofHours(1), null, null);
        assertThat(longPublish.roundTimeout()).isEqualTo(Duration.ofSeconds(180));
        assertThat(longPublish.staleAfter()).isEqualTo(Duration.ofSeconds(360));

        OutboxProperties defaults = new OutboxProperties(POLL, 100, Duration.ofSeconds(30), null, null,
                Duration.ofHours(1), null, null);
        assertThat(defaults.roundTimeout()).isEqualTo(Duration.ofMinutes(1));
        assertThat(defaults.staleAfter()).isEqualTo(Duration.ofMinutes(2));
    }

    @Test
    void refusesStaleAfterNotLongerThanTheRoundTimeout() {
        assertThatThrownBy(() -> new OutboxProperties(POLL, 100, Duration.ofSeconds(30), ROUND_TIMEOUT,
                ROUND_TIMEOUT, Duration.ofHours(1), null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("stale-after");
    }

    private OutboxRelayLifecycle startedOnVirtualTime() {
        VirtualTimeScheduler.getOrSet(time);
        OutboxRelayLifecycle lifecycle = new OutboxRelayLifecycle(relay, properties());
        lifecycle.start();
        return lifecycle;
    }

    private Flux<KafkaPublisher.Outcome> publish(List<OutboundRecord> records) {
        records.forEach(record -> published.add(new String(record.value(), StandardCharsets.UTF_8)));
        return Flux.range(0, records.size()).map(index -> new KafkaPublisher.Outcome(index, null));
    }

    private static OutboxProperties properties() {
        return new OutboxProperties(POLL, 100, Duration.ofSeconds(30), ROUND_TIMEOUT, STALE_AFTER, Duration.ofHours(1),
                null, null);
    }

    /**
     * A transaction is the work, then a commit that hangs while {@link #commitHangs} is set; an error or a cancel
     * rolls it back.
     */
    private final class InMemoryTransactions implements TransactionalOperator {

        @Override
        public <T> Flux<T> execute(TransactionCallback<T> action) {
            Mono<T> commit = Mono.defer(() -> commitHangs.get() ? Mono.never() : Mono.fromRunnable(outbox::commit));
            return Flux.from(action.doInTransaction(null))
                    .concatWith(commit)
                    .doOnError(error -> outbox.rollback())
                    .doOnCancel(outbox::rollback);
        }
    }

    /** {@code dispatch.outbox} in memory; the relay lock's query can be made to hang, or be taken by another relay. */
    private static final class InMemoryOutbox extends Outbox {

        private final List<PendingEvent> unsent = new CopyOnWriteArrayList<>();
        private final List<Long> markedInTransaction = new CopyOnWriteArrayList<>();
        private final Map<Long, Integer> heldFor = new java.util.concurrent.ConcurrentHashMap<>();
        private final Map<Integer, Instant> stalledUntil = new java.util.concurrent.ConcurrentHashMap<>();
        private final AtomicBoolean lockHangs = new AtomicBoolean();
        private final AtomicInteger lockHangsFor = new AtomicInteger();
        private final AtomicBoolean lockHeldElsewhere = new AtomicBoolean();
        private final AtomicInteger added = new AtomicInteger();
        private final AtomicInteger deleted = new AtomicInteger();
        private final List<Long> purgeAnswers = new CopyOnWriteArrayList<>();
        private final List<Instant> purgesBefore = new CopyOnWriteArrayList<>();

        InMemoryOutbox() {
            super(null);
        }

        void add(int events) {
            IntStream.range(0, events).forEach(ignored -> {
                int id = added.incrementAndGet();
                unsent.add(new PendingEvent(id, "request-" + id, "event-" + id, Instant.EPOCH.plusSeconds(id), null,
                        null));
            });
        }

        void add(String requestId) {
            int id = added.incrementAndGet();
            unsent.add(new PendingEvent(id, requestId, "event-" + id, Instant.EPOCH.plusSeconds(id), null, null));
        }

        void lockHangs(boolean hangs) {
            lockHangs.set(hangs);
        }

        void lockHangsOnce() {
            lockHangsFor.set(1);
        }

        void sendOldestElsewhere() {
            unsent.remove(0);
        }

        int unsentCount() {
            return unsent.size();
        }

        List<String> unsentRequests() {
            return unsent.stream().map(PendingEvent::requestId).toList();
        }

        @Override
        Mono<Boolean> tryRelayLock(Duration limit) {
            return Mono.defer(() -> lockHangs.get() || lockHangsFor.getAndDecrement() > 0 ? Mono.never()
                    : Mono.just(!lockHeldElsewhere.get()));
        }

        @Override
        Flux<PendingEvent> unsent(int limit) {
            return Flux.defer(() -> Flux.fromIterable(List.copyOf(unsent))
                    .filter(event -> !heldFor.containsKey(event.id()))
                    .map(event -> new PendingEvent(event.id(), event.requestId(), event.payload(), event.createdAt(),
                            event.traceparent(), unsent.stream().filter(earlier -> earlier.id() < event.id()
                                    && earlier.requestId().equals(event.requestId())
                                    && heldFor.containsKey(earlier.id()))
                            .map(earlier -> heldFor.get(earlier.id())).findFirst().orElse(null)))
                    .take(limit));
        }

        @Override
        Mono<Void> hold(Long[] ids, Integer[] partitions) {
            return Mono.fromRunnable(() -> {
                for (int i = 0; i < ids.length; i++) {
                    heldFor.put(ids[i], partitions[i]);
                }
            });
        }

        @Override
        Mono<Map<Integer, Instant>> stalledPartitions() {
            return Mono.fromCallable(() -> Map.copyOf(stalledUntil));
        }

        @Override
        Mono<Void> stall(Integer[] partitions, Instant until) {
            return Mono.fromRunnable(() -> Arrays.stream(partitions)
                    .forEach(partition -> stalledUntil.merge(partition, until, (one, other) ->
                            one.isAfter(other) ? one : other)));
        }

        @Override
        Mono<Long> tryAgain(int partition, int limit) {
            return Mono.fromCallable(() -> {
                List<Long> oldest = heldFor.entrySet().stream().filter(entry -> entry.getValue() == partition)
                        .map(Map.Entry::getKey).sorted().limit(limit).toList();
                oldest.forEach(heldFor::remove);
                return (long) oldest.size();
            });
        }

        @Override
        Mono<Void> takesEvents(int partition) {
            return Mono.fromRunnable(() -> {
                if (!heldFor.containsValue(partition)) {
                    stalledUntil.remove(partition);
                }
            });
        }

        @Override
        Mono<Void> markSent(Long[] ids) {
            return Mono.fromRunnable(() -> markedInTransaction.addAll(Arrays.asList(ids)));
        }

        @Override
        Mono<Void> deleteSent(Long[] ids) {
            return markSent(ids).doOnSuccess(done -> deleted.addAndGet(ids.length));
        }

        int deleted() {
            return deleted.get();
        }

        /** What the purge statements answer, in turn (then nothing more to purge). */
        void purgeAnswers(Long... rows) {
            purgeAnswers.addAll(Arrays.asList(rows));
        }

        List<Instant> purgesBefore() {
            return purgesBefore;
        }

        void commit() {
            unsent.removeIf(event -> markedInTransaction.contains(event.id()));
            markedInTransaction.clear();
        }

        void rollback() {
            markedInTransaction.clear();
        }

        @Override
        Mono<Backlog> backlog() {
            return Mono.fromSupplier(() -> new Backlog(unsent.size(),
                    unsent.isEmpty() ? null : unsent.get(0).createdAt()));
        }

        @Override
        Mono<Long> purgeSentBefore(Instant before, int limit) {
            return Mono.fromSupplier(() -> {
                purgesBefore.add(before);
                return purgeAnswers.isEmpty() ? 0L : purgeAnswers.remove(0);
            });
        }
    }
}
