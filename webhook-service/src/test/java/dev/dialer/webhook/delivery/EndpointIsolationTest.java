package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

class EndpointIsolationTest {

    private static final IsolationProperties PROPERTIES = new IsolationProperties(2, 50, 4, 4, Duration.ofMinutes(1),
            Duration.ofMinutes(30));

    @Test
    void refusesATryBeyondTheEndpointsLimitAtOnceWithoutTouchingOtherEndpoints() {
        EndpointIsolation isolation = new EndpointIsolation(PROPERTIES);
        Sinks.One<AttemptResult> hanging = Sinks.one();
        isolation.call("https://slow.test/a", hanging::asMono).subscribe();
        isolation.call("https://slow.test/b", hanging::asMono).subscribe();

        StepVerifier.create(isolation.call("https://slow.test/c", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.reason()).isEqualTo(Reason.ENDPOINT_BUSY))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        StepVerifier.create(isolation.call("https://fast.test/a", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        hanging.tryEmitValue(ok());
        StepVerifier.create(isolation.call("https://slow.test/c", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void opensTheCircuitAfterFailuresAndThenRefusesWithoutCalling() {
        EndpointIsolation isolation = new EndpointIsolation(PROPERTIES);
        for (int i = 0; i < 4; i++) {
            isolation.call("https://down.test/", () -> Mono.just(AttemptResult.failed(Reason.CONNECTION, "refused",
                    Duration.ofMillis(1)))).block(Duration.ofSeconds(5));
        }

        StepVerifier.create(isolation.call("https://down.test/", () -> Mono.error(new AssertionError("called"))))
                .assertNext(result -> assertThat(result.reason()).isEqualTo(Reason.CIRCUIT_OPEN))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(isolation.openCircuits()).isEqualTo(1);
    }

    @Test
    void anOpenCircuitSaysHowLongItStaysOpenAndRefusesUntilThen() {
        EndpointIsolation isolation = new EndpointIsolation(PROPERTIES);
        openCircuitOf(isolation, "https://down.test/");

        StepVerifier.create(isolation.call("https://down.test/other", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.retryAfter())
                        .isBetween(Duration.ofSeconds(50), Duration.ofMinutes(1)))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(isolation.refusing("https://down.test/any/path")).isTrue();
        assertThat(isolation.refusing("https://up.test/")).isFalse();
    }

    @Test
    void anOpenCircuitPastItsOpenTimeIsNoLongerRefusingSoThatATrialCanGo() {
        EndpointIsolation isolation = new EndpointIsolation(new IsolationProperties(2, 50, 4, 4,
                Duration.ofSeconds(1), Duration.ofMinutes(30)));
        openCircuitOf(isolation, "https://down.test/");
        assertThat(isolation.refusing("https://down.test/")).isTrue();

        await().atMost(Duration.ofSeconds(10)).until(() -> !isolation.refusing("https://down.test/"));
        StepVerifier.create(isolation.call("https://down.test/", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void anEndpointWithItsLimitInFlightIsRefusingUntilOneEnds() {
        EndpointIsolation isolation = new EndpointIsolation(PROPERTIES);
        Sinks.One<AttemptResult> hanging = Sinks.one();
        isolation.call("https://slow.test/a", hanging::asMono).subscribe();
        assertThat(isolation.refusing("https://slow.test/")).isFalse();
        isolation.call("https://slow.test/b", hanging::asMono).subscribe();

        assertThat(isolation.refusing("https://slow.test/")).isTrue();
        hanging.tryEmitValue(ok());
        assertThat(isolation.refusing("https://slow.test/")).isFalse();
    }

    @Test
    void aClientErrorAnswerDoesNotOpenTheCircuit() {
        EndpointIsolation isolation = new EndpointIsolation(PROPERTIES);
        for (int i = 0; i < 6; i++) {
            isolation.call("https://picky.test/", () -> Mono.just(AttemptResult.answered(400, Duration.ofMillis(1))))
                    .block(Duration.ofSeconds(5));
        }

        assertThat(isolation.openCircuits()).isZero();
    }

    @Test
    void aTryThatThrowsGivesItsSlotBackSoTheEndpointIsNotRefusingAfterwards() {
        EndpointIsolation isolation = new EndpointIsolation(PROPERTIES);
        for (int i = 0; i <= PROPERTIES.maxConcurrentPerEndpoint(); i++) {
            StepVerifier.create(isolation.call("https://buggy.test/", () -> {
                        throw new IllegalArgumentException("not an IP literal");
                    }))
                    .expectError(IllegalArgumentException.class)
                    .verify(Duration.ofSeconds(5));
        }

        assertThat(isolation.refusing("https://buggy.test/")).isFalse();
        StepVerifier.create(isolation.call("https://buggy.test/", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aTrialThatErrorsGivesItsPermissionBackSoTheNextTryCanBeTheTrial() {
        EndpointIsolation isolation = new EndpointIsolation(new IsolationProperties(2, 50, 4, 4,
                Duration.ofMillis(200), Duration.ofMinutes(30)));
        openCircuitOf(isolation, "https://down.test/");
        await().atMost(Duration.ofSeconds(10)).until(() -> !isolation.refusing("https://down.test/"));

        StepVerifier.create(isolation.call("https://down.test/", () -> Mono.error(new IllegalStateException("bug"))))
                .expectError(IllegalStateException.class)
                .verify(Duration.ofSeconds(5));

        StepVerifier.create(isolation.call("https://down.test/", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    private static void openCircuitOf(EndpointIsolation isolation, String url) {
        for (int i = 0; i < 4; i++) {
            isolation.call(url, () -> Mono.just(AttemptResult.failed(Reason.CONNECTION, "refused",
                    Duration.ofMillis(1)))).block(Duration.ofSeconds(5));
        }
    }

    private static AttemptResult ok() {
        return AttemptResult.answered(200, Duration.ofMillis(1));
    }
}
