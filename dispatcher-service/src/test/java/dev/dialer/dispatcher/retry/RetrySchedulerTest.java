package dev.dialer.dispatcher.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.dispatcher.TestClock;
import dev.dialer.dispatcher.pacing.PartitionLanes;
import dev.dialer.dispatcher.retry.RetrySchedule.Share;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The retry scheduler's ticks, on virtual time. */
class RetrySchedulerTest {

    private static final String ACCOUNT = "acc-retry";

    private final RetryProperties properties = claiming(100);

    @Test
    void aTickWhoseDatabaseHangsIsGivenUpOnceItsLeaseRanOut() {
        // A claim that neither answers nor fails: a connection gone quiet.
        RetrySchedule hanging = new OneAccountSchedule() {
            @Override
            Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, List<Share> shares) {
                return Flux.never();
            }
        };
        RetryScheduler scheduler = new RetryScheduler(hanging, null, record -> Mono.empty(), properties,
                Clock.systemUTC(), new RetryMetrics(new SimpleMeterRegistry()), command -> true);

        StepVerifier.withVirtualTime(scheduler::fireDue)
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(29))
                .thenAwait(Duration.ofSeconds(1))
                .expectComplete()
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void aTickWhoseEveryRowFailsToPublishIsNoProgressAndOneThatFiresARowIs() {
        AtomicBoolean kafkaRefuses = new AtomicBoolean(true);
        RetrySchedule oneDue = new OneAccountSchedule() {
            @Override
            Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, List<Share> shares) {
                return Flux.just(new ScheduledAttempt(command(), 2, now, "retry", now));
            }

            @Override
            Mono<Void> removeAll(List<ScheduledAttempt> rows) {
                return Mono.empty();
            }
        };
        TestClock clock = TestClock.at(Instant.parse("2026-01-01T10:00:00Z"));
        RetryScheduler scheduler = new RetryScheduler(oneDue, (command, attempt) -> Mono.just(true),
                record -> kafkaRefuses.get() ? Mono.error(new IllegalStateException("not authorized")) : Mono.empty(),
                properties, clock, new RetryMetrics(new SimpleMeterRegistry()), command -> true);
        Instant start = clock.instant();

        StepVerifier.create(scheduler.fireDue()).expectComplete().verify(Duration.ofSeconds(10));
        assertThat(scheduler.lastProgress()).as("every row failed").isNull();

        // Claimed again once its lease (30 s) has lapsed.
        kafkaRefuses.set(false);
        clock.advance(Duration.ofSeconds(31));
        StepVerifier.create(scheduler.fireDue()).expectComplete().verify(Duration.ofSeconds(10));
        assertThat(scheduler.lastProgress()).isEqualTo(start.plusSeconds(31));
    }

    @Test
    void aClaimGivenUpAtItsLeaseAfterItFiredRowsIsProgressAndItsFiredRowsAreRemoved() {
        Instant base = Instant.parse("2026-01-01T10:00:00Z");
        List<ScheduledAttempt> rows = new ArrayList<>();
        for (int row = 0; row < 100; row++) {
            rows.add(new ScheduledAttempt(command(), 1, base.plusMillis(row), "parked", base.plusMillis(row)));
        }
        List<ScheduledAttempt> removed = Collections.synchronizedList(new ArrayList<>());
        RetrySchedule hundredDue = claimingEachTime(rows, removed);
        // The caller ID's partition acknowledges each record after a second: within each record's patience, but a
        // hundred of them, one after another, outlast the claim's lease (30 s).
        TestClock clock = TestClock.at(base.plusSeconds(1));
        RetryScheduler scheduler = new RetryScheduler(hundredDue, (command, attempt) -> Mono.just(true),
                record -> Mono.delay(Duration.ofSeconds(1)).then(), properties, clock,
                new RetryMetrics(new SimpleMeterRegistry()), command -> true);

        StepVerifier.withVirtualTime(scheduler::fireDue)
                .thenAwait(Duration.ofSeconds(60))
                .expectComplete()
                .verify(Duration.ofSeconds(10));

        assertThat(removed).as("the rows fired before the lease ran out").hasSizeBetween(25, 30)
                .isEqualTo(rows.subList(0, removed.size()));
        assertThat(scheduler.lastProgress()).as("rows were fired: no stall").isEqualTo(clock.instant());
    }

    @Test
    void marksAParkedCommandAsBackForItsTurnAndARetryAsNew() {
        CallCommand parked = command();
        RetrySchedule parkedAndRetry = new OneAccountSchedule() {
            @Override
            Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, List<Share> shares) {
                return Flux.just(new ScheduledAttempt(parked, 1, now, "parked", now),
                        new ScheduledAttempt(command(), 2, now, "retry", now));
            }

            @Override
            Mono<Void> removeAll(List<ScheduledAttempt> rows) {
                return Mono.empty();
            }
        };
        List<OutboundRecord> published = Collections.synchronizedList(new ArrayList<>());
        RetryScheduler scheduler = new RetryScheduler(parkedAndRetry, (command, attempt) -> Mono.just(true),
                record -> Mono.fromRunnable(() -> published.add(record)), properties, Clock.systemUTC(),
                new RetryMetrics(new SimpleMeterRegistry()), command -> true);

        StepVerifier.create(scheduler.fireDue()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(published).hasSize(2);
        assertThat(published).filteredOn(record -> record.headers().containsKey(PartitionLanes.PARKED_HEADER))
                .singleElement().satisfies(record -> assertThat(record.value()).asString().contains(parked.requestId()));
    }

    @Test
    void publishesTheRowsOfOneCallerIdDueInOneTickInDueOrderOneAfterAnother() {
        Instant base = Instant.parse("2026-01-01T10:00:00Z");
        List<ScheduledAttempt> rows = new ArrayList<>();
        for (int row = 0; row < 20; row++) {
            rows.add(new ScheduledAttempt(command(), 1, base.plusMillis(row), "parked", base.plusMillis(row)));
        }
        // The claim returns the rows in no particular order.
        Collections.shuffle(rows, new java.util.Random(7));
        RetrySchedule twentyDue = new OneAccountSchedule() {
            @Override
            Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, List<Share> shares) {
                return Flux.fromIterable(rows);
            }

            @Override
            Mono<Void> removeAll(List<ScheduledAttempt> rows) {
                return Mono.empty();
            }
        };
        // Kafka acknowledges the row due first last, had they all been sent at once.
        List<Instant> published = Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger mostInFlight = new java.util.concurrent.atomic.AtomicInteger();
        RetryScheduler scheduler = new RetryScheduler(twentyDue, (command, attempt) -> Mono.just(true),
                record -> {
                    Instant due = Instant.parse(record.headers().get(PartitionLanes.PARKED_HEADER));
                    return Mono.defer(() -> {
                                mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                                return Mono.delay(Duration.ofMillis(100 - Duration.between(base, due).toMillis()));
                            })
                            .doOnNext(sent -> {
                                inFlight.decrementAndGet();
                                published.add(due);
                            })
                            .then();
                },
                properties, TestClock.at(base.plusSeconds(1)), new RetryMetrics(new SimpleMeterRegistry()),
                command -> true);

        StepVerifier.withVirtualTime(scheduler::fireDue)
                .thenAwait(Duration.ofSeconds(5))
                .expectComplete()
                .verify(Duration.ofSeconds(10));

        assertThat(published).hasSize(20).isSorted();
        assertThat(mostInFlight).as("each published once the one due before it is").hasValue(1);
    }

    @Test
    void aTickWhoseClaimsComeBackFullClaimsAgainAtOnceUntilOneIsNot() {
        // 23 rows due, claimed 5 at a time: one tick fires them all (five claims), not 5 per poll interval.
        RetryProperties fiveAtATime = claiming(5);
        java.util.Deque<ScheduledAttempt> due = new java.util.concurrent.ConcurrentLinkedDeque<>();
        for (int row = 0; row < 23; row++) {
            due.add(new ScheduledAttempt(command(), 1, Instant.EPOCH.plusSeconds(row), "retry",
                    Instant.EPOCH.plusSeconds(row)));
        }
        List<Integer> claims = Collections.synchronizedList(new ArrayList<>());
        List<List<Share>> shared = Collections.synchronizedList(new ArrayList<>());
        RetrySchedule schedule = new OneAccountSchedule() {
            @Override
            Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, List<Share> shares) {
                shared.add(shares);
                List<ScheduledAttempt> claimed = new ArrayList<>();
                while (claimed.size() < most(shares) && !due.isEmpty()) {
                    claimed.add(due.poll());
                }
                claims.add(claimed.size());
                // In no particular order, as the database returns them.
                Collections.reverse(claimed);
                return Flux.fromIterable(claimed);
            }

            @Override
            Mono<Void> removeAll(List<ScheduledAttempt> rows) {
                return Mono.empty();
            }
        };
        List<OutboundRecord> published = Collections.synchronizedList(new ArrayList<>());
        RetryScheduler scheduler = new RetryScheduler(schedule, (command, attempt) -> Mono.just(true),
                record -> Mono.fromRunnable(() -> published.add(record)), fiveAtATime, Clock.systemUTC(),
                new RetryMetrics(new SimpleMeterRegistry()), command -> true);

        StepVerifier.create(scheduler.fireDue()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(published).hasSize(23);
        assertThat(claims).containsExactly(5, 5, 5, 5, 3);
        assertThat(shared).as("the one account with rows due, its whole batch each time").hasSize(5)
                .allSatisfy(shares -> assertThat(shares).extracting(Share::accountId, Share::most)
                        .containsExactly(tuple(ACCOUNT, 5)));
        // Each claim after the first starts after the last row the one before took.
        assertThat(shared).extracting(shares -> shares.get(0).after() == null ? null : shares.get(0).after().dueAt())
                .containsExactly(null, Instant.EPOCH.plusSeconds(4), Instant.EPOCH.plusSeconds(9),
                        Instant.EPOCH.plusSeconds(14), Instant.EPOCH.plusSeconds(19));
    }

    @Test
    void accountsWithRowsDueShareEachClaimAndOneWithMoreDueHasItsTurnAgainUntilItsRowsAreFired() {
        // One account with 23 rows due, claimed first by due time, and two with one row each, due last: served by
        // the first claim all the same, the large one's backlog then drained claim after claim.
        RetryProperties fiveAtATime = claiming(5);
        java.util.Map<String, java.util.Deque<ScheduledAttempt>> due = new java.util.concurrent.ConcurrentHashMap<>();
        for (int row = 0; row < 23; row++) {
            due.computeIfAbsent("acc-large", account -> new java.util.concurrent.ConcurrentLinkedDeque<>())
                    .add(row("acc-large", Instant.EPOCH.plusSeconds(row)));
        }
        due.put("acc-small", new java.util.concurrent.ConcurrentLinkedDeque<>(
                List.of(row("acc-small", Instant.EPOCH.plusSeconds(100)))));
        due.put("acc-tiny", new java.util.concurrent.ConcurrentLinkedDeque<>(
                List.of(row("acc-tiny", Instant.EPOCH.plusSeconds(101)))));
        List<List<Share>> shared = Collections.synchronizedList(new ArrayList<>());
        List<String> afters = Collections.synchronizedList(new ArrayList<>());
        RetrySchedule schedule = new RetrySchedule(null) {
            @Override
            Mono<List<String>> dueAccounts(Instant dueBy, String after, int most) {
                afters.add(after);
                return Mono.just(due.entrySet().stream().filter(entry -> !entry.getValue().isEmpty())
                        .map(java.util.Map.Entry::getKey).sorted().toList());
            }

            @Override
            Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, List<Share> shares) {
                shared.add(shares);
                List<ScheduledAttempt> claimed = new ArrayList<>();
                for (Share share : shares) {
                    for (int row = 0; row < share.most() && !due.get(share.accountId()).isEmpty(); row++) {
                        claimed.add(due.get(share.accountId()).poll());
                    }
                }
                return Flux.fromIterable(claimed);
            }

            @Override
            Mono<Void> removeAll(List<ScheduledAttempt> rows) {
                return Mono.empty();
            }
        };
        List<String> published = Collections.synchronizedList(new ArrayList<>());
        RetryScheduler scheduler = new RetryScheduler(schedule, (command, attempt) -> Mono.just(true),
                record -> Mono.fromRunnable(() -> published.add(new String(record.value()))), fiveAtATime,
                Clock.systemUTC(), new RetryMetrics(new SimpleMeterRegistry()), command -> true);

        StepVerifier.create(scheduler.fireDue()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(shared.get(0)).as("every account in the first claim")
                .containsExactly(new Share("acc-large", 2), new Share("acc-small", 2), new Share("acc-tiny", 1));
        // The small one had fewer rows than its share: its turn is over. The others had as many: they go again.
        assertThat(shared.get(1)).extracting(Share::accountId, Share::most)
                .containsExactly(tuple("acc-large", 3), tuple("acc-tiny", 2));
        assertThat(shared.subList(2, shared.size())).as("then the large one alone, its whole batch each time")
                .hasSize(4).allSatisfy(shares -> assertThat(shares).extracting(Share::accountId, Share::most)
                        .containsExactly(tuple("acc-large", 5)));
        assertThat(published).hasSize(25);
        assertThat(published.subList(0, 4)).as("the first claim's rows, the small accounts' among them")
                .anySatisfy(value -> assertThat(value).contains("acc-small"))
                .anySatisfy(value -> assertThat(value).contains("acc-tiny"));
        assertThat(due.values()).allSatisfy(rows -> assertThat(rows).isEmpty());

        StepVerifier.create(scheduler.fireDue()).expectComplete().verify(Duration.ofSeconds(10));
        assertThat(afters).as("the next tick's turns start after the account served last")
                .containsExactly("", "acc-large");
    }

    @Test
    void theSharesOfAClaimDivideItsBatchAsEvenlyAsItDividesAmongAtMostTheBatchsAccounts() {
        ScheduledAttempt lastTaken = row("g", Instant.EPOCH);
        java.util.Deque<Share> turns = new java.util.ArrayDeque<>(List.of("a", "b", "c", "d", "e", "f").stream()
                .map(account -> new Share(account, 0)).toList());
        turns.add(new Share("g", 0, lastTaken));

        assertThat(RetryScheduler.shares(turns, 5)).containsExactly(new Share("a", 1), new Share("b", 1),
                new Share("c", 1), new Share("d", 1), new Share("e", 1));
        assertThat(turns).extracting(Share::accountId).containsExactly("f", "g");
        assertThat(RetryScheduler.shares(turns, 5)).as("each starting where its turn does")
                .containsExactly(new Share("f", 3), new Share("g", 2, lastTaken));
        assertThat(turns).isEmpty();
    }

    @Test
    void aRowTheTickHeldIsNotClaimedAgainWithinItThoughItComesDueWhileTheTickRuns() {
        // Six rows whose route no carrier takes: each is held, due again 5 s on. The clock runs 10 s a reading, so a
        // held row is due again by the next claim's reading; the tick still claims each row once.
        Instant start = Instant.parse("2026-01-01T10:00:00Z");
        TestClock clock = TestClock.stepping(start, Duration.ofSeconds(10));
        java.util.Map<String, Instant> due = new java.util.concurrent.ConcurrentHashMap<>();
        java.util.Map<String, CallCommand> commands = new java.util.concurrent.ConcurrentHashMap<>();
        for (int row = 0; row < 6; row++) {
            CallCommand command = command();
            commands.put(command.requestId(), command);
            due.put(command.requestId(), start.minusSeconds(60));
        }
        List<String> claimed = Collections.synchronizedList(new ArrayList<>());
        RetrySchedule held = new OneAccountSchedule() {
            @Override
            Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, List<Share> shares) {
                List<ScheduledAttempt> rows = due.entrySet().stream()
                        .filter(entry -> !entry.getValue().isAfter(dueBy))
                        .sorted(java.util.Map.Entry.comparingByValue())
                        .limit(most(shares))
                        .map(entry -> new ScheduledAttempt(commands.get(entry.getKey()), 1, entry.getValue(), "retry",
                                entry.getValue()))
                        .toList();
                rows.forEach(row -> {
                    claimed.add(row.command().requestId());
                    due.put(row.command().requestId(), Instant.MAX); // leased
                });
                return Flux.fromIterable(rows);
            }

            @Override
            Mono<Void> holdUntil(ScheduledAttempt row, Instant until) {
                return Mono.fromRunnable(() -> due.put(row.command().requestId(), until));
            }
        };
        RetryScheduler scheduler = new RetryScheduler(held, (command, attempt) -> Mono.just(true),
                record -> Mono.error(new AssertionError("no carrier takes calls: nothing is published")), claiming(2),
                clock, new RetryMetrics(new SimpleMeterRegistry()), command -> false);

        StepVerifier.create(scheduler.fireDue()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(claimed).hasSize(6).doesNotHaveDuplicates();
        assertThat(due.values()).allSatisfy(dueAt -> assertThat(dueAt).isBefore(Instant.MAX));
    }

    @Test
    void aPartitionThatTakesNoCommandIsLeftForItsLeaseAndTheTicksOtherPartitionsAreFiredWithoutWaitingForIt() {
        // Three claims of five rows, each with one row of two caller IDs on partition 0, whose leader is away (its
        // publishes never complete), and of three on partition 1.
        RetryProperties fiveAtATime = claiming(5);
        java.util.Deque<ScheduledAttempt> due = new java.util.concurrent.ConcurrentLinkedDeque<>();
        List<String> callers = List.of("+4930555000", "+4930555010", "+4930555001", "+4930555011", "+4930555021");
        for (int claim = 0; claim < 3; claim++) {
            for (int caller = 0; caller < callers.size(); caller++) {
                Instant dueAt = Instant.EPOCH.plusSeconds(claim * 10L + caller);
                due.add(new ScheduledAttempt(command(callers.get(caller)), 1, dueAt, "retry", dueAt));
            }
        }
        List<ScheduledAttempt> removed = Collections.synchronizedList(new ArrayList<>());
        java.util.Map<ScheduledAttempt, Instant> relet = new java.util.concurrent.ConcurrentHashMap<>();
        Instant leasedUntil = Instant.parse("2026-01-01T10:00:30Z");
        RetrySchedule schedule = new OneAccountSchedule() {
            @Override
            Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, List<Share> shares) {
                List<ScheduledAttempt> claimed = new ArrayList<>();
                while (claimed.size() < most(shares) && !due.isEmpty()) {
                    ScheduledAttempt row = due.poll();
                    claimed.add(new ScheduledAttempt(row.command(), row.attempt(), row.dueAt(), row.reason(),
                            row.firstDueAt(), null, leasedUntil));
                }
                return Flux.fromIterable(claimed);
            }

            @Override
            Mono<Void> removeAll(List<ScheduledAttempt> rows) {
                return Mono.fromRunnable(() -> removed.addAll(rows));
            }

            @Override
            Mono<Void> leaseUntil(java.util.Map<ScheduledAttempt, Instant> rows) {
                return Mono.fromRunnable(() -> relet.putAll(rows));
            }
        };
        TestClock clock = TestClock.at(Instant.parse("2026-01-01T10:00:00Z"));
        List<String> tried = Collections.synchronizedList(new ArrayList<>());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RetryScheduler scheduler = new RetryScheduler(schedule, (command, attempt) -> Mono.just(true),
                record -> Mono.defer(() -> {
                    tried.add(record.key());
                    return partition(record.key()) == 0 ? Mono.never() : Mono.empty();
                }),
                fiveAtATime, clock, new RetryMetrics(registry), command -> true, command -> false,
                Duration.ofMinutes(5), (command, message) -> Mono.empty(),
                callerId -> Mono.just(partition(callerId)));

        // One patience in all, not one a claim: the tick ends before a second would have run out.
        StepVerifier.withVirtualTime(scheduler::fireDue)
                .thenAwait(RetryScheduler.PUBLISH_PATIENCE.plusSeconds(1))
                .expectComplete()
                .verify(Duration.ofSeconds(10));

        assertThat(tried).filteredOn(key -> partition(key) == 0).as("tried in the first claim only")
                .containsExactlyInAnyOrder("+4930555000", "+4930555010");
        assertThat(tried).filteredOn(key -> partition(key) == 1).hasSize(9);
        assertThat(removed).as("only what was published leaves the schedule").hasSize(9)
                .allSatisfy(row -> assertThat(partition(row.command().callerId())).isEqualTo(1));
        assertThat(registry.counter("dialer.dispatcher.retries", "stage", "stalled", "reason", "retry").count())
                .isEqualTo(6);
        assertThat(registry.counter("dialer.dispatcher.retries", "stage", "fired", "reason", "retry").count())
                .isEqualTo(9);
        assertThat(relet).as("left until the first stalled row's lease lapses, all claimable again together")
                .hasSize(6).allSatisfy((row, until) -> assertThat(until).isEqualTo(leasedUntil));

        // The next tick, within that lease, with later rows of the same caller IDs due: the stalled partition's are
        // left until then too, untried, so that they are not fired before the rows left first.
        clock.advance(Duration.ofSeconds(10));
        for (int caller = 0; caller < callers.size(); caller++) {
            Instant dueAt = Instant.EPOCH.plusSeconds(100 + caller);
            due.add(new ScheduledAttempt(command(callers.get(caller)), 1, dueAt, "retry", dueAt));
        }
        relet.clear();
        StepVerifier.create(scheduler.fireDue()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(tried).filteredOn(key -> partition(key) == 0).hasSize(2);
        assertThat(tried).filteredOn(key -> partition(key) == 1).hasSize(12);
        assertThat(relet).hasSize(2).allSatisfy((row, until) -> assertThat(until).isEqualTo(leasedUntil));
    }

    @Test
    void aCallerIdsLaterRowClaimedWhileItsFailedRowIsStillLeasedWaitsForItAndIsNotFiredFirst() {
        CallCommand first = command("+4930555077");
        CallCommand later = command("+4930555077");
        Instant leasedUntil = Instant.parse("2026-01-01T10:00:30Z");
        java.util.Deque<ScheduledAttempt> due = new java.util.concurrent.ConcurrentLinkedDeque<>(List.of(
                new ScheduledAttempt(first, 1, Instant.EPOCH, "parked", Instant.EPOCH, null, leasedUntil)));
        java.util.Map<ScheduledAttempt, Instant> relet = new java.util.concurrent.ConcurrentHashMap<>();
        RetrySchedule schedule = draining(due, relet);
        AtomicBoolean kafkaRefuses = new AtomicBoolean(true);
        List<String> published = Collections.synchronizedList(new ArrayList<>());
        TestClock clock = TestClock.at(Instant.parse("2026-01-01T10:00:00Z"));
        RetryScheduler scheduler = new RetryScheduler(schedule, (command, attempt) -> Mono.just(true),
                record -> kafkaRefuses.get() ? Mono.error(new IllegalStateException("not leader"))
                        : Mono.fromRunnable(() -> published.add(new String(record.value()))),
                properties, clock, new RetryMetrics(new SimpleMeterRegistry()), command -> true);
        StepVerifier.create(scheduler.fireDue()).expectComplete().verify(Duration.ofSeconds(10));

        // The first row failed and stays leased until 10:00:30; a second later its caller ID's next row is due.
        kafkaRefuses.set(false);
        clock.advance(Duration.ofSeconds(1));
        ScheduledAttempt next = new ScheduledAttempt(later, 1, Instant.EPOCH.plusSeconds(1), "parked",
                Instant.EPOCH.plusSeconds(1), null, Instant.parse("2026-01-01T10:00:31Z"));
        due.add(next);
        StepVerifier.create(scheduler.fireDue()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(published).as("not before the row due first").isEmpty();
        assertThat(relet).containsExactly(java.util.Map.entry(next, leasedUntil));
    }

    @Test
    void aCallerIdsRowsAfterOneLeftForItsStalledPartitionAreLeftUntilTheSameTime() {
        Instant firstLease = Instant.parse("2026-01-01T10:00:30Z");
        Instant laterLease = Instant.parse("2026-01-01T10:00:31Z");
        java.util.Deque<ScheduledAttempt> due = new java.util.concurrent.ConcurrentLinkedDeque<>(List.of(
                new ScheduledAttempt(command("+4930555000"), 1, Instant.EPOCH, "parked", Instant.EPOCH, null,
                        firstLease)));
        java.util.Map<ScheduledAttempt, Instant> relet = new java.util.concurrent.ConcurrentHashMap<>();
        RetrySchedule schedule = draining(due, relet);
        TestClock clock = TestClock.at(Instant.parse("2026-01-01T10:00:00Z"));
        List<String> tried = Collections.synchronizedList(new ArrayList<>());
        RetryScheduler scheduler = new RetryScheduler(schedule, (command, attempt) -> Mono.just(true),
                record -> Mono.defer(() -> {
                    tried.add(record.key());
                    return partition(record.key()) == 0 ? Mono.never() : Mono.empty();
                }),
                properties, clock, new RetryMetrics(new SimpleMeterRegistry()), command -> true, command -> false,
                Duration.ofMinutes(5), (command, message) -> Mono.empty(), callerId -> Mono.just(partition(callerId)));
        StepVerifier.withVirtualTime(scheduler::fireDue)
                .thenAwait(RetryScheduler.PUBLISH_PATIENCE.plusSeconds(1))
                .expectComplete()
                .verify(Duration.ofSeconds(10));

        // A second later another caller ID of that partition has three rows due, claimed under a later lease.
        clock.advance(Duration.ofSeconds(1));
        List<ScheduledAttempt> three = new ArrayList<>();
        for (int row = 0; row < 3; row++) {
            Instant dueAt = Instant.EPOCH.plusSeconds(10 + row);
            three.add(new ScheduledAttempt(command("+4930555010"), 1, dueAt, "parked", dueAt, null, laterLease));
        }
        due.addAll(three);
        relet.clear();
        StepVerifier.create(scheduler.fireDue()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(tried).as("the stalled partition tried once").containsExactly("+4930555000");
        assertThat(relet).as("all three, not the first alone: the others would come back after it and newer rows")
                .containsOnlyKeys(three).allSatisfy((row, until) -> assertThat(until).isEqualTo(firstLease));
    }

    /** A schedule whose claim takes every row in {@code due} once, and that notes the rows leased again. */
    private static RetrySchedule draining(java.util.Deque<ScheduledAttempt> due,
                                          java.util.Map<ScheduledAttempt, Instant> relet) {
        return new OneAccountSchedule() {
            @Override
            Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, List<Share> shares) {
                List<ScheduledAttempt> claimed = new ArrayList<>(due);
                due.clear();
                return Flux.fromIterable(claimed);
            }

            @Override
            Mono<Void> leaseUntil(java.util.Map<ScheduledAttempt, Instant> rows) {
                return Mono.fromRunnable(() -> relet.putAll(rows));
            }
        };
    }

    /** The partition of the test's commands topic a caller ID goes to: its last digit. */
    private static int partition(String callerId) {
        return callerId.charAt(callerId.length() - 1) - '0';
    }

    @Test
    void aFullClaimWhoseEveryRowFailsEndsTheTick() {
        RetryProperties twoAtATime = claiming(2);
        java.util.concurrent.atomic.AtomicInteger claims = new java.util.concurrent.atomic.AtomicInteger();
        RetrySchedule alwaysFull = new OneAccountSchedule() {
            @Override
            Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, List<Share> shares) {
                claims.incrementAndGet();
                return Flux.just(new ScheduledAttempt(command(), 1, now, "retry", now),
                        new ScheduledAttempt(command(), 1, now, "retry", now));
            }
        };
        RetryScheduler scheduler = new RetryScheduler(alwaysFull, (command, attempt) -> Mono.just(true),
                record -> Mono.error(new IllegalStateException("not authorized")), twoAtATime, Clock.systemUTC(),
                new RetryMetrics(new SimpleMeterRegistry()), command -> true);

        StepVerifier.create(scheduler.fireDue()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(claims).as("claiming again would only meet the same failure").hasValue(1);
    }

    /** The scheduler's settings, claiming {@code batchSize} rows at a time. */
    private static RetryProperties claiming(int batchSize) {
        return new RetryProperties(Duration.ofMinutes(1), Duration.ofSeconds(1), Duration.ofSeconds(30),
                Duration.ofMinutes(2), batchSize, Duration.ofSeconds(15), Duration.ofMinutes(30), Duration.ofMinutes(5));
    }

    @Test
    void aClaimAsksOnceWhetherItsRowsAreWantedAndRemovesWhatItMovedOnInOneStatement() {
        List<ScheduledAttempt> due = new ArrayList<>();
        for (int row = 0; row < 4; row++) {
            due.add(new ScheduledAttempt(command(), 2, Instant.EPOCH.plusSeconds(row), "retry",
                    Instant.EPOCH.plusSeconds(row)));
        }
        String ended = due.get(1).command().requestId();
        List<List<ScheduledAttempt>> removals = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean claimedOnce = new AtomicBoolean();
        RetrySchedule schedule = new OneAccountSchedule() {
            @Override
            Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, List<Share> shares) {
                return claimedOnce.getAndSet(true) ? Flux.empty() : Flux.fromIterable(due);
            }

            @Override
            Mono<Void> removeAll(List<ScheduledAttempt> rows) {
                return Mono.fromRunnable(() -> removals.add(List.copyOf(rows)));
            }
        };
        List<List<String>> questions = Collections.synchronizedList(new ArrayList<>());
        WaitEndCheck oneEnded = new WaitEndCheck() {
            @Override
            public Mono<Boolean> stillWanted(CallCommand command, int attempt) {
                throw new AssertionError("asked row by row");
            }

            @Override
            public Mono<java.util.Set<String>> stillWantedOf(List<CallCommand> released) {
                questions.add(released.stream().map(command -> command.requestId() + "#" + command.attempt())
                        .toList());
                return Mono.just(released.stream().map(CallCommand::requestId).filter(id -> !id.equals(ended))
                        .collect(java.util.stream.Collectors.toSet()));
            }
        };
        List<OutboundRecord> published = Collections.synchronizedList(new ArrayList<>());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RetryScheduler scheduler = new RetryScheduler(schedule, oneEnded,
                record -> Mono.fromRunnable(() -> published.add(record)), claiming(4), Clock.systemUTC(),
                new RetryMetrics(registry), command -> true);

        StepVerifier.create(scheduler.fireDue()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(questions).hasSize(1);
        assertThat(questions.get(0)).as("each with the attempt about to be released")
                .containsExactlyInAnyOrderElementsOf(due.stream().map(row -> row.command().requestId() + "#2")
                        .toList());
        assertThat(published).as("the ended request's attempt dropped").hasSize(3)
                .noneMatch(record -> new String(record.value()).contains(ended));
        assertThat(removals).as("released and dropped rows alike, once").hasSize(1);
        assertThat(removals.get(0)).containsExactlyInAnyOrderElementsOf(due);
        assertThat(registry.counter("dialer.dispatcher.retries", "stage", "fired", "reason", "retry").count())
                .isEqualTo(3);
        assertThat(registry.counter("dialer.dispatcher.retries", "stage", "dropped", "reason", "retry").count())
                .isEqualTo(1);
    }

    @Test
    void rowsThatCouldNotBeRemovedEndTheTickAndAreNotCountedFired() {
        List<Integer> claims = Collections.synchronizedList(new ArrayList<>());
        RetrySchedule schedule = new OneAccountSchedule() {
            @Override
            Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, List<Share> shares) {
                claims.add(most(shares));
                return Flux.range(0, most(shares)).map(row -> new ScheduledAttempt(command(), 1,
                        Instant.EPOCH.plusSeconds(claims.size() * 100L + row), "retry", Instant.EPOCH));
            }

            @Override
            Mono<Void> removeAll(List<ScheduledAttempt> rows) {
                return Mono.error(new IllegalStateException("connection lost"));
            }
        };
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RetryScheduler scheduler = new RetryScheduler(schedule, (command, attempt) -> Mono.just(true),
                record -> Mono.empty(), claiming(3), Clock.systemUTC(), new RetryMetrics(registry), command -> true);

        StepVerifier.create(scheduler.fireDue()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(claims).as("a full claim, but its rows are still in the schedule: no second claim").hasSize(1);
        assertThat(registry.get("dialer.dispatcher.retries").tag("stage", "fired").counters())
                .allSatisfy(fired -> assertThat(fired.count()).isZero());
        assertThat(scheduler.lastProgress()).as("published again and again is not progress").isNull();
    }

    @Test
    void aRowKafkaRefusesForItsSizeEndsItsRequestFailedAndTheCallerIdsLaterRowsAreFired() {
        Instant base = Instant.parse("2026-01-01T10:00:00Z");
        ScheduledAttempt tooLarge = new ScheduledAttempt(command(), 2, base, "retry", base);
        List<ScheduledAttempt> rows = List.of(tooLarge,
                new ScheduledAttempt(command(), 1, base.plusMillis(1), "parked", base.plusMillis(1)),
                new ScheduledAttempt(command(), 1, base.plusMillis(2), "parked", base.plusMillis(2)));
        List<ScheduledAttempt> removed = Collections.synchronizedList(new ArrayList<>());
        RetrySchedule threeDue = claimingEachTime(rows, removed);
        List<String> published = Collections.synchronizedList(new ArrayList<>());
        List<String> ended = Collections.synchronizedList(new ArrayList<>());
        RetryScheduler scheduler = new RetryScheduler(threeDue, (command, attempt) -> Mono.just(true),
                record -> new String(record.value()).contains(tooLarge.command().requestId())
                        ? Mono.error(new RecordTooLargeException("larger than max.message.bytes"))
                        : Mono.fromRunnable(() -> published.add(new String(record.value()))),
                claiming(10), Clock.systemUTC(), new RetryMetrics(new SimpleMeterRegistry()), command -> true,
                command -> false, Duration.ofMinutes(5),
                (command, message) -> Mono.fromRunnable(() -> ended.add(command.requestId() + "#" + command.attempt()
                        + ": " + message)));

        StepVerifier.create(scheduler.fireDue()).expectComplete().verify(Duration.ofSeconds(10));

        assertThat(published).as("the caller ID's later rows, in their turn").hasSize(2)
                .allSatisfy(value -> assertThat(value).doesNotContain(tooLarge.command().requestId()));
        assertThat(ended).singleElement().asString()
                .startsWith(tooLarge.command().requestId() + "#2: ")
                .contains("larger than max.message.bytes");
        assertThat(removed).containsExactlyInAnyOrderElementsOf(rows);
    }

    private static ScheduledAttempt row(String accountId, Instant due) {
        CallCommand command = command();
        return new ScheduledAttempt(new CallCommand(1, command.requestId(), accountId, command.callerId(),
                command.to(), null, "a.wav", null, 5, 3, 1, null, null, null, null, null, null, null, null,
                Instant.now()), 1, due, "retry", due);
    }

    /** A schedule whose every due row is of {@link #ACCOUNT}, the account of {@link #command()}. */
    private abstract static class OneAccountSchedule extends RetrySchedule {

        OneAccountSchedule() {
            super(null);
        }

        @Override
        Mono<List<String>> dueAccounts(Instant dueBy, String after, int most) {
            return Mono.just(List.of(ACCOUNT));
        }
    }

    /** A schedule each of whose claims takes {@code rows}, and which keeps the rows it is asked to remove. */
    private static RetrySchedule claimingEachTime(List<ScheduledAttempt> rows, List<ScheduledAttempt> removed) {
        return new OneAccountSchedule() {
            @Override
            Flux<ScheduledAttempt> claimDue(Instant dueBy, Instant now, Duration lease, List<Share> shares) {
                return Flux.fromIterable(rows);
            }

            @Override
            Mono<Void> removeAll(List<ScheduledAttempt> moved) {
                return Mono.fromRunnable(() -> removed.addAll(moved));
            }
        };
    }

    /** The rows a claim of {@code shares} takes at most. */
    private static int most(List<RetrySchedule.Share> shares) {
        return shares.stream().mapToInt(RetrySchedule.Share::most).sum();
    }

    private static CallCommand command() {
        return command("+4930555900");
    }

    private static CallCommand command(String callerId) {
        return new CallCommand(1, "rs-" + UUID.randomUUID(), ACCOUNT, callerId, "+4915112340900", null,
                "a.wav", null, 5, 3, 1, null, null, null, null, null, null, null, null, Instant.now());
    }
}
