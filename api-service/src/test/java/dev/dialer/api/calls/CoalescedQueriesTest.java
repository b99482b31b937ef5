package dev.dialer.api.calls;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class CoalescedQueriesTest {

    private static final Duration KEPT = Duration.ofSeconds(2);
    private static final Duration LIMIT = Duration.ofSeconds(30);

    private final VirtualTimeScheduler clock = VirtualTimeScheduler.create();
    private final AtomicInteger queries = new AtomicInteger();
    private Sinks.One<Long> running = Sinks.one();
    /** A count of a campaign's calls that runs until the test answers it. */
    private final CoalescedQueries<String, Long> counts = new CoalescedQueries<>(campaign -> {
        queries.incrementAndGet();
        return running.asMono();
    }, KEPT, LIMIT, clock);

    @Test
    void requestsForACampaignWhileItIsCountedShareTheOneCount() {
        Mono<Long> first = counts.get("spring");
        Mono<Long> second = counts.get("spring");
        Mono<Long> third = counts.get("spring");

        StepVerifier.create(Mono.zip(first, second, third))
                .then(() -> running.tryEmitValue(1_000_000L))
                .assertNext(answers -> assertThat(List.of(answers.getT1(), answers.getT2(), answers.getT3()))
                        .containsOnly(1_000_000L))
                .verifyComplete();
        assertThat(queries).hasValue(1);
    }

    @Test
    void aCountIsAnsweredForTwoSecondsAfterItCameThenCountedAgainAndForgotten() {
        running.tryEmitValue(10L);
        assertThat(counts.get("spring").block()).isEqualTo(10);

        clock.advanceTimeBy(KEPT.minusMillis(1));
        assertThat(counts.get("spring").block()).isEqualTo(10);
        assertThat(queries).hasValue(1);

        clock.advanceTimeBy(Duration.ofMillis(1));
        assertThat(counts.size()).as("removed once expired, asked for again or not").isZero();
        running = Sinks.one();
        running.tryEmitValue(11L);
        assertThat(counts.get("spring").block()).isEqualTo(11);
        assertThat(queries).hasValue(2);
    }

    @Test
    void aCountThatNeverAnswersFailsAtItsLimitAndTheNextRequestCountsAgain() {
        StepVerifier.create(counts.get("spring"))
                .then(() -> clock.advanceTimeBy(LIMIT))
                .expectError(java.util.concurrent.TimeoutException.class)
                .verify(Duration.ofSeconds(5));
        assertThat(counts.size()).isZero();

        running = Sinks.one();
        running.tryEmitValue(14L);
        assertThat(counts.get("spring").block()).isEqualTo(14);
        assertThat(queries).hasValue(2);
    }

    @Test
    void aSlowCountIsAnsweredToThoseThatWaitedAndTheNextRequestCountsAgain() {
        StepVerifier.create(counts.get("spring"))
                .then(() -> clock.advanceTimeBy(KEPT.plusSeconds(1)))
                .then(() -> running.tryEmitValue(15L))
                .expectNext(15L)
                .verifyComplete();
        clock.advanceTimeBy(Duration.ZERO);

        running = Sinks.one();
        running.tryEmitValue(16L);
        assertThat(counts.get("spring").block()).as("what it saw was older than two seconds").isEqualTo(16);
        assertThat(queries).hasValue(2);
    }

    @Test
    void eachCampaignIsCountedOnItsOwn() {
        running.tryEmitValue(10L);

        counts.get("spring").block();
        counts.get("autumn").block();

        assertThat(queries).hasValue(2);
        assertThat(counts.size()).isEqualTo(2);
        clock.advanceTimeBy(KEPT);
        assertThat(counts.size()).isZero();
    }

    @Test
    void aFailedCountIsNotKeptTheNextRequestCountsAgain() {
        running.tryEmitError(new IllegalStateException("connection lost"));

        StepVerifier.create(counts.get("spring")).expectError(IllegalStateException.class).verify();
        assertThat(counts.size()).isZero();
        running = Sinks.one();
        running.tryEmitValue(12L);
        assertThat(counts.get("spring").block()).isEqualTo(12);
        assertThat(queries).hasValue(2);
    }

    @Test
    void aRequestThatGoesAwayDoesNotCancelTheCountTheOthersWaitFor() {
        Disposable hungUp = counts.get("spring").subscribe();
        Mono<Long> waiting = counts.get("spring");

        hungUp.dispose();

        StepVerifier.create(waiting).then(() -> running.tryEmitValue(13L)).expectNext(13L).verifyComplete();
        assertThat(queries).hasValue(1);
    }
}
