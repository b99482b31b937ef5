package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessResourceFailureException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

class RetryPollerTest {

    private static final Duration POLL = Duration.ofSeconds(1);
    private static final Duration LEASE = Duration.ofMinutes(1);
    private static final Duration PURGE = Duration.ofHours(1);
    private static final DeliveryTask TASK = new DeliveryTask(1L, "ev-1", "call.status",
            new Target(Target.Kind.WEBHOOK, "wh-1", null, "POST", null), "req-1", "acc-1", new byte[0], 1, null, false,
            Instant.EPOCH, Instant.EPOCH, null);

    private final AtomicBoolean databaseDown = new AtomicBoolean();
    private final AtomicBoolean countHangs = new AtomicBoolean();
    private final AtomicBoolean claimHangs = new AtomicBoolean();
    private final AtomicBoolean purgeHangs = new AtomicBoolean();
    private final AtomicInteger purges = new AtomicInteger();
    private final AtomicInteger claims = new AtomicInteger();
    private final Sinks.Empty<Void> delivery = Sinks.empty();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<RetriesInFlight.Room> rooms = new CopyOnWriteArrayList<>();

    /** The first claim returns one task, whose try lasts until the test ends it; later claims find nothing due. */
    private final RetryPoller.DueDeliveries table = new RetryPoller.DueDeliveries() {
        @Override
        public Mono<Long> pending() {
            if (countHangs.get()) {
                return Mono.never();
            }
            return databaseDown.get() ? Mono.error(new DataAccessResourceFailureException("connection refused"))
                    : Mono.just(1L);
        }

        @Override
        public Flux<DeliveryTask> claim(int limit, Duration lease, HeldTargets.Held held,
                                        RetriesInFlight.Room room) {
            rooms.add(room);
            if (claimHangs.get()) {
                return Flux.never();
            }
            return Flux.defer(() -> databaseDown.get()
                    ? Flux.error(new DataAccessResourceFailureException("connection refused"))
                    : claims.getAndIncrement() == 0 ? Flux.just(TASK) : Flux.empty());
        }

        @Override
        public Flux<DeliveryTask> claimHeldStoredBefore(Instant storedBefore, int limit, Duration lease,
                                                        HeldTargets.Held held) {
            return Flux.error(new AssertionError("nothing is held"));
        }
    };

    @Test
    void claimsDoNotWaitForTheCountOfTheTable() {
        countHangs.set(true);
        StepVerifier.withVirtualTime(() -> poller(2).run())
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(10))
                // The first claim took a row: the tick claims again, and finds nothing.
                .then(() -> assertThat(claims).hasValue(2))
                .expectNoEvent(POLL)
                .then(() -> assertThat(claims).hasValue(3))
                .thenCancel()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aFailedClaimIsLoggedCountedAndTheNextTickClaimsAgain() {
        databaseDown.set(true);
        StepVerifier.withVirtualTime(() -> poller(2).run())
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(10))
                .then(() -> {
                    assertThat(claims).hasValue(0);
                    assertThat(claimsEnded("failed")).isEqualTo(1);
                    assertThat(claimsEnded("claimed")).isZero();
                    databaseDown.set(false);
                })
                .expectNoEvent(POLL)
                .then(() -> {
                    assertThat(claims).hasValue(2);
                    assertThat(claimsEnded("failed")).isEqualTo(1);
                    assertThat(claimsEnded("claimed")).isEqualTo(2);
                })
                .thenCancel()
                .verify(Duration.ofSeconds(5));
    }

    /** A connection that hangs without failing: the claim is given up at its lease, and the poller goes on. */
    @Test
    void aClaimThatHangsIsGivenUpAtItsLeaseAndALaterTickClaimsAgain() {
        claimHangs.set(true);
        StepVerifier.withVirtualTime(() -> poller(2).run())
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(10))
                .then(() -> {
                    assertThat(rooms).hasSize(1);
                    claimHangs.set(false);
                })
                .expectNoEvent(LEASE.minus(Duration.ofMillis(20)))
                .then(() -> {
                    assertThat(rooms).as("no tick claims while the claim runs").hasSize(1);
                    assertThat(claimsEnded("failed")).isZero();
                })
                .expectNoEvent(Duration.ofMillis(20))
                .then(() -> assertThat(claimsEnded("failed")).isEqualTo(1))
                .expectNoEvent(POLL)
                .then(() -> {
                    assertThat(claims.get()).as("later ticks claimed again").isPositive();
                    assertThat(claimsEnded("claimed")).isEqualTo(claims.get());
                })
                .thenCancel()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aPurgeThatHangsIsGivenUpAtTheNextIntervalAndPurgingGoesOn() {
        purgeHangs.set(true);
        StepVerifier.withVirtualTime(() -> poller(2).run())
                .expectSubscription()
                .expectNoEvent(PURGE)
                .then(() -> {
                    assertThat(purges).hasValue(1);
                    purgeHangs.set(false);
                })
                .expectNoEvent(PURGE.multipliedBy(2))
                .then(() -> assertThat(purges).as("purged again after the hung one was given up")
                        .hasValueGreaterThanOrEqualTo(2))
                .thenCancel()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aSlowCountIsWaitedForAndOneThatHangsIsGivenUpAfterItsTimeout() {
        countHangs.set(true);
        StepVerifier.withVirtualTime(() -> poller(1).run())
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(10))
                .then(() -> countHangs.set(false))
                .expectNoEvent(RetryPoller.PENDING_COUNT_TIMEOUT.minusSeconds(1))
                .then(() -> assertThat(pendingGauge()).as("a slow count is waited for").isZero())
                .expectNoEvent(RetryPoller.PENDING_COUNT_INTERVAL.multipliedBy(2))
                .then(() -> assertThat(pendingGauge()).isEqualTo(1.0))
                .thenCancel()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void theCountIsKeptCurrentOnItsOwnIntervalAndAFailedOneIsTriedAgain() {
        databaseDown.set(true);
        StepVerifier.withVirtualTime(() -> poller(1).run())
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(10))
                .then(() -> {
                    assertThat(pendingGauge()).isZero();
                    databaseDown.set(false);
                })
                .expectNoEvent(RetryPoller.PENDING_COUNT_INTERVAL)
                .then(() -> assertThat(pendingGauge()).isEqualTo(1.0))
                .thenCancel()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aClaimIsToldOfThePollersTriesInFlightUntilTheyEnd() {
        StepVerifier.withVirtualTime(() -> poller(2).run())
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(10))
                .then(() -> assertThat(rooms).hasSize(2).first()
                        .satisfies(room -> assertThat(room.endpoints()).isEmpty()))
                .expectNoEvent(POLL)
                .then(() -> {
                    RetriesInFlight.Room room = rooms.get(2);
                    assertThat(room.endpointAccounts()).containsExactly("acc-1");
                    assertThat(room.endpoints()).containsExactly(RetriesInFlight.WEBHOOK + "wh-1");
                    assertThat(room.endpointTries()).containsExactly(1);
                    assertThat(room.accounts()).containsExactly("acc-1");
                    assertThat(room.accountTries()).containsExactly(1);
                    delivery.tryEmitEmpty();
                })
                .expectNoEvent(POLL)
                .then(() -> assertThat(rooms.get(3).endpoints()).isEmpty())
                .thenCancel()
                .verify(Duration.ofSeconds(5));
    }

    /** A try whose outcome can never be written (its statements hang): given up at its lease, its place freed. */
    @Test
    void aTryThatNeverSettlesIsGivenUpAtItsLeaseAndNoLongerHoldsItsPlace() {
        StepVerifier.withVirtualTime(() -> poller(2).run())
                .expectSubscription()
                .expectNoEvent(POLL.plusMillis(10))
                .then(() -> assertThat(rooms.get(1).endpoints()).containsExactly(RetriesInFlight.WEBHOOK + "wh-1"))
                .expectNoEvent(LEASE.minus(POLL).minusMillis(20))
                .then(() -> assertThat(rooms.get(rooms.size() - 1).endpoints()).as("still trying within its lease")
                        .containsExactly(RetriesInFlight.WEBHOOK + "wh-1"))
                .expectNoEvent(POLL.multipliedBy(2))
                .then(() -> assertThat(rooms.get(rooms.size() - 1).endpoints()).as("given up at its lease").isEmpty())
                .thenCancel()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aTryThatThrowsWhileBeingMadeSettlesAloneAndTheNextTickClaimsAgain() {
        AtomicInteger tries = new AtomicInteger();
        RetryPoller poller = poller(2, task -> {
            tries.incrementAndGet();
            throw new NullPointerException("a webhook without an id");
        });
        StepVerifier.withVirtualTime(poller::run)
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(10))
                .then(() -> assertThat(tries).hasValue(1))
                .expectNoEvent(POLL)
                .then(() -> {
                    assertThat(claims).as("the poller claims again").hasValue(3);
                    assertThat(rooms.get(2).endpoints()).as("the try no longer counts as in flight").isEmpty();
                })
                .thenCancel()
                .verify(Duration.ofSeconds(5));
    }

    /**
     * One account's backlog fills the claim's window (its endpoint fast: its tries end within the tick): once the tries
     * a claim took fill the endpoint, the tick claims again, and the other account's due row, which the window did not
     * reach, goes in the same tick.
     */
    @Test
    void aClaimThatFilledAnEndpointIsFollowedInTheSameTickByOneThatPassesItsRowsOver() {
        String backlog = RetriesInFlight.WEBHOOK + "wh-backlog";
        List<String> delivered = new CopyOnWriteArrayList<>();
        RetryPoller.DueDeliveries window = new RetryPoller.DueDeliveries() {
            @Override
            public Mono<Long> pending() {
                return Mono.just(100_001L);
            }

            @Override
            public Flux<DeliveryTask> claim(int limit, Duration lease, HeldTargets.Held held,
                                            RetriesInFlight.Room room) {
                // The window ranks the backlog's rows alone until its endpoint is full, and then the other's row.
                boolean full = List.of(room.fullEndpoints()).contains(backlog);
                return full ? Flux.just(task(7L, "acc-other", "wh-other"))
                        : Flux.just(task(1L, "acc-replay", "wh-backlog"), task(2L, "acc-replay", "wh-backlog"));
            }

            @Override
            public Flux<DeliveryTask> claimHeldStoredBefore(Instant storedBefore, int limit, Duration lease,
                                                            HeldTargets.Held held) {
                return Flux.error(new AssertionError("nothing is held"));
            }
        };
        RetryProperties properties = new RetryProperties(List.of(Duration.ZERO), Duration.ofSeconds(1), 0,
                Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1), POLL, 10, 8);
        RetryPoller poller = new RetryPoller(window, task -> Mono.fromRunnable(() -> delivered.add(task.accountId()))
                .then(Mono.never()), properties, LEASE, new DeliveryMetrics(registry), Mono::empty, PURGE,
                HeldTargets.Held::none, new RetriesInFlight(2, 64),
                new RetryPoller.Expiry(HeldTargets.Held::none, () -> Instant.EPOCH));

        StepVerifier.withVirtualTime(poller::run)
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(10))
                .then(() -> assertThat(delivered).contains("acc-other"))
                .thenCancel()
                .verify(Duration.ofSeconds(5));
    }

    /**
     * A dead endpoint's rows, shut and past the schedule's span: every refusal delay a pass claims them, the oldest
     * first, batch after full batch, and hands each to the deliverer (which gives it up); with nothing shut, no pass
     * claims, and a failed pass is followed by the next.
     */
    @Test
    void heldRowsPastTheSpanAreHandedOnBatchAfterFullBatchEveryRefusalDelay() {
        Instant pastSpan = Instant.parse("2026-01-01T00:00:00Z");
        HeldTargets.Held heldNow = new HeldTargets.Held(new String[0], new String[] {"wh-dead"}, new String[0],
                new String[0]);
        AtomicBoolean holding = new AtomicBoolean();
        AtomicBoolean expiryFails = new AtomicBoolean();
        List<Instant> cutoffs = new CopyOnWriteArrayList<>();
        AtomicInteger expiryClaims = new AtomicInteger();
        List<Long> handed = new CopyOnWriteArrayList<>();
        RetryPoller.DueDeliveries dead = new RetryPoller.DueDeliveries() {
            @Override
            public Mono<Long> pending() {
                return Mono.just(0L);
            }

            @Override
            public Flux<DeliveryTask> claim(int limit, Duration lease, HeldTargets.Held held,
                                            RetriesInFlight.Room room) {
                return Flux.empty();
            }

            @Override
            public Flux<DeliveryTask> claimHeldStoredBefore(Instant storedBefore, int limit, Duration lease,
                                                            HeldTargets.Held held) {
                assertThat(held).isSameAs(heldNow);
                assertThat(lease).isEqualTo(LEASE);
                cutoffs.add(storedBefore);
                if (expiryFails.get()) {
                    return Flux.error(new DataAccessResourceFailureException("connection refused"));
                }
                // A full batch, then three rows, then none.
                int claim = expiryClaims.getAndIncrement();
                int rows = claim == 0 ? limit : claim == 1 ? 3 : 0;
                return Flux.range(0, rows).map(i -> task(claim * 10_000L + i, "acc-1", "wh-dead"));
            }
        };
        RetryProperties properties = new RetryProperties(List.of(Duration.ZERO), Duration.ofSeconds(1), 0,
                Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ofSeconds(5), POLL, 10, 8);
        RetryPoller poller = new RetryPoller(dead, task -> Mono.fromRunnable(() -> handed.add(task.id())), properties,
                LEASE, new DeliveryMetrics(registry), Mono::empty, PURGE, HeldTargets.Held::none,
                new RetriesInFlight(16, 64),
                new RetryPoller.Expiry(() -> holding.get() ? heldNow : HeldTargets.Held.none(), () -> pastSpan));

        StepVerifier.withVirtualTime(poller::run)
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(6))
                .then(() -> {
                    assertThat(cutoffs).as("nothing shut: no pass claims").isEmpty();
                    holding.set(true);
                    expiryFails.set(true);
                })
                .expectNoEvent(Duration.ofSeconds(5))
                .then(() -> {
                    assertThat(cutoffs).as("a failed pass").hasSize(1);
                    expiryFails.set(false);
                })
                .expectNoEvent(Duration.ofSeconds(5))
                .then(() -> {
                    assertThat(expiryClaims).as("a full batch is followed by another claim").hasValue(2);
                    assertThat(handed).hasSize(RetryPoller.EXPIRY_BATCH + 3).doesNotHaveDuplicates();
                    assertThat(cutoffs).containsOnly(pastSpan);
                })
                .expectNoEvent(Duration.ofSeconds(5))
                .then(() -> assertThat(expiryClaims).as("the next pass claims again").hasValue(3))
                .thenCancel()
                .verify(Duration.ofSeconds(5));
    }

    private static DeliveryTask task(long id, String account, String webhook) {
        return new DeliveryTask(id, "ev-" + id, "call.status", new Target(Target.Kind.WEBHOOK, webhook, null, "POST",
                null), "req-" + id, account, new byte[0], 1, null, false, Instant.EPOCH, Instant.EPOCH, null);
    }

    private double pendingGauge() {
        return registry.get("dialer.webhook.retries.pending").gauge().value();
    }

    private RetryPoller poller(int concurrency) {
        return poller(concurrency, task -> delivery.asMono());
    }

    private RetryPoller poller(int concurrency, RetryPoller.Delivery deliverer) {
        RetryProperties properties = new RetryProperties(List.of(Duration.ZERO), Duration.ofSeconds(1), 0,
                Duration.ZERO, Duration.ZERO, Duration.ZERO, Duration.ofSeconds(1), POLL, 10, concurrency);
        RetryPoller.Housekeeping housekeeping = () -> Mono.defer(() -> {
            purges.incrementAndGet();
            return purgeHangs.get() ? Mono.never() : Mono.empty();
        });
        return new RetryPoller(table, deliverer, properties, LEASE, new DeliveryMetrics(registry), housekeeping, PURGE,
                HeldTargets.Held::none, new RetriesInFlight(16, 64),
                new RetryPoller.Expiry(HeldTargets.Held::none, () -> Instant.EPOCH));
    }

    private long claimsEnded(String outcome) {
        return registry.get("dialer.webhook.retries.claims").tag("outcome", outcome).timer().count();
    }
}
