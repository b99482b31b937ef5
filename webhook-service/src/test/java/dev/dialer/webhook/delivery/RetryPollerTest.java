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
    private static final DeliveryTask TASK = new DeliveryTask(1L, "ev-1", "call.status",
            new Target(Target.Kind.WEBHOOK, "wh-1", null, "POST", null), "req-1", "acc-1", new byte[0], 1, null, false,
            Instant.EPOCH, Instant.EPOCH, null);

    private final AtomicBoolean databaseDown = new AtomicBoolean();
    private final AtomicBoolean countHangs = new AtomicBoolean();
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
            return Flux.defer(() -> databaseDown.get()
                    ? Flux.error(new DataAccessResourceFailureException("connection refused"))
                    : claims.getAndIncrement() == 0 ? Flux.just(TASK) : Flux.empty());
        }
    };

    @Test
    void claimsDoNotWaitForTheCountOfTheTable() {
        countHangs.set(true);
        StepVerifier.withVirtualTime(() -> poller(2).run())
                .expectSubscription()
                .expectNoEvent(Duration.ofMillis(10))
                .then(() -> assertThat(claims).hasValue(1))
                .expectNoEvent(POLL)
                .then(() -> assertThat(claims).hasValue(2))
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
                    assertThat(claims).hasValue(1);
                    assertThat(claimsEnded("failed")).isEqualTo(1);
                    assertThat(claimsEnded("claimed")).isEqualTo(1);
                })
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
                .then(() -> assertThat(rooms).hasSize(1).allSatisfy(room -> assertThat(room.endpoints()).isEmpty()))
                .expectNoEvent(POLL)
                .then(() -> {
                    RetriesInFlight.Room room = rooms.get(1);
                    assertThat(room.endpointAccounts()).containsExactly("acc-1");
                    assertThat(room.endpoints()).containsExactly(RetriesInFlight.WEBHOOK + "wh-1");
                    assertThat(room.endpointTries()).containsExactly(1);
                    assertThat(room.accounts()).containsExactly("acc-1");
                    assertThat(room.accountTries()).containsExactly(1);
                    delivery.tryEmitEmpty();
                })
                .expectNoEvent(POLL)
                .then(() -> assertThat(rooms.get(2).endpoints()).isEmpty())
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
                    assertThat(claims).as("the poller claims again").hasValue(2);
                    assertThat(rooms.get(1).endpoints()).as("the try no longer counts as in flight").isEmpty();
                })
                .thenCancel()
                .verify(Duration.ofSeconds(5));
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
        return new RetryPoller(table, deliverer, properties, Duration.ofMinutes(1),
                new DeliveryMetrics(registry), Mono::empty, Duration.ofHours(1),
                HeldTargets.Held::none, new RetriesInFlight(16, 64));
    }

    private long claimsEnded(String outcome) {
        return registry.get("dialer.webhook.retries.claims").tag("outcome", outcome).timer().count();
    }
}
