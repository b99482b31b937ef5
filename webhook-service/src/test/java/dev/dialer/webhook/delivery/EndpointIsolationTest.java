package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

class EndpointIsolationTest {

    private static final String ACCOUNT = "acc-1";

    private static final IsolationProperties PROPERTIES = new IsolationProperties(2, 64, 64, 50, 4, 4,
            Duration.ofMinutes(1), Duration.ofMinutes(30));
    /** Two tries per endpoint, three per account over all its endpoints. */
    private static final IsolationProperties ACCOUNT_LIMIT = new IsolationProperties(2, 64, 3, 50, 4, 4,
            Duration.ofMinutes(1), Duration.ofMinutes(30));

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void anEndpointIsOneHoweverItsUrlsSpellIt() {
        String endpoint = EndpointIsolation.endpoint("https://hooks.example.com/a");

        assertThat(EndpointIsolation.endpoint("HTTPS://Hooks.Example.com:443/b")).isEqualTo(endpoint);
        assertThat(EndpointIsolation.endpoint("https://hooks.example.com./c?x=1")).isEqualTo(endpoint);
        assertThat(EndpointIsolation.endpoint("http://hooks.example.com:80/a"))
                .isEqualTo(EndpointIsolation.endpoint("http://hooks.example.com/a"));
        assertThat(EndpointIsolation.endpoint("https://hooks.example.com:8443/a")).isNotEqualTo(endpoint);
        assertThat(EndpointIsolation.endpoint("http://hooks.example.com/a")).isNotEqualTo(endpoint);
        assertThat(EndpointIsolation.endpoint("https://hooks.example.com:80/a")).isNotEqualTo(endpoint)
                .isNotEqualTo(EndpointIsolation.endpoint("http://hooks.example.com/a"));
    }

    @Test
    void refusesATryBeyondTheEndpointsLimitAtOnceWithoutTouchingOtherEndpoints() {
        EndpointIsolation isolation = isolation(PROPERTIES);
        Sinks.One<AttemptResult> hanging = Sinks.one();
        isolation.call(ACCOUNT, "https://slow.test/a", hanging::asMono).subscribe();
        isolation.call(ACCOUNT, "https://slow.test/b", hanging::asMono).subscribe();

        StepVerifier.create(isolation.call(ACCOUNT, "https://slow.test/c", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.reason()).isEqualTo(Reason.ENDPOINT_BUSY))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        StepVerifier.create(isolation.call(ACCOUNT, "https://fast.test/a", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        hanging.tryEmitValue(ok());
        StepVerifier.create(isolation.call(ACCOUNT, "https://slow.test/c", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void pastTenThousandEndpointsTheQuietOnesAreForgottenSoonerAndAnOpenCircuitIsKept() throws Exception {
        // Forgotten after 3 s normally; crowded, a quiet endpoint after a thirtieth of that.
        EndpointIsolation isolation = isolation(new IsolationProperties(2, 64, 64, 50, 4, 4, Duration.ofMinutes(1),
                Duration.ofSeconds(3)));
        for (int i = 0; i < 4; i++) {
            isolation.call(ACCOUNT, "https://down.test/", () -> Mono.just(AttemptResult.failed(Reason.CONNECTION,
                    "refused", Duration.ofMillis(1)))).block(Duration.ofSeconds(5));
        }
        // A host of its own per call: each endpoint used once.
        for (int call = 0; call <= EndpointIsolation.CROWDED; call++) {
            isolation.call(ACCOUNT, "https://call-" + call + ".hooks.test/status",
                    () -> Mono.just(AttemptResult.answered(200, Duration.ofMillis(1)))).block(Duration.ofSeconds(5));
        }
        assertThat(isolation.tracked()).isGreaterThan(EndpointIsolation.CROWDED);

        Thread.sleep(1_200);
        isolation.call(ACCOUNT, "https://next.hooks.test/status",
                () -> Mono.just(AttemptResult.answered(200, Duration.ofMillis(1)))).block(Duration.ofSeconds(5));

        assertThat(isolation.tracked()).as("the endpoint just used and the one whose circuit is open").isEqualTo(2);
        assertThat(isolation.refusing(ACCOUNT, "https://down.test/")).isTrue();
    }

    @Test
    void opensTheCircuitAfterFailuresAndThenRefusesWithoutCalling() {
        EndpointIsolation isolation = isolation(PROPERTIES);
        for (int i = 0; i < 4; i++) {
            isolation.call(ACCOUNT, "https://down.test/", () -> Mono.just(AttemptResult.failed(Reason.CONNECTION,
                    "refused", Duration.ofMillis(1)))).block(Duration.ofSeconds(5));
        }

        StepVerifier.create(isolation.call(ACCOUNT, "https://down.test/",
                        () -> Mono.error(new AssertionError("called"))))
                .assertNext(result -> assertThat(result.reason()).isEqualTo(Reason.CIRCUIT_OPEN))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(isolation.openCircuits()).isEqualTo(1);
    }

    @Test
    void anOpenCircuitSaysHowLongItStaysOpenAndRefusesUntilThen() {
        EndpointIsolation isolation = isolation(PROPERTIES);
        openCircuitOf(isolation, "https://down.test/");

        StepVerifier.create(isolation.call(ACCOUNT, "https://down.test/other", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.retryAfter())
                        .isBetween(Duration.ofSeconds(50), Duration.ofMinutes(1)))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(isolation.refusing(ACCOUNT, "https://down.test/any/path")).isTrue();
        assertThat(isolation.refusing(ACCOUNT, "https://up.test/")).isFalse();
    }

    @Test
    void anOpenCircuitPastItsOpenTimeIsNoLongerRefusingSoThatATrialCanGo() {
        EndpointIsolation isolation = isolation(new IsolationProperties(2, 64, 64, 50, 4, 4,
                Duration.ofSeconds(1), Duration.ofMinutes(30)));
        openCircuitOf(isolation, "https://down.test/");
        assertThat(isolation.refusing(ACCOUNT, "https://down.test/")).isTrue();

        await().atMost(Duration.ofSeconds(10)).until(() -> !isolation.refusing(ACCOUNT, "https://down.test/"));
        StepVerifier.create(isolation.call(ACCOUNT, "https://down.test/", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void anEndpointWithItsLimitInFlightIsRefusingUntilOneEnds() {
        EndpointIsolation isolation = isolation(PROPERTIES);
        Sinks.One<AttemptResult> hanging = Sinks.one();
        isolation.call(ACCOUNT, "https://slow.test/a", hanging::asMono).subscribe();
        assertThat(isolation.refusing(ACCOUNT, "https://slow.test/")).isFalse();
        isolation.call(ACCOUNT, "https://slow.test/b", hanging::asMono).subscribe();

        assertThat(isolation.refusing(ACCOUNT, "https://slow.test/")).isTrue();
        hanging.tryEmitValue(ok());
        assertThat(isolation.refusing(ACCOUNT, "https://slow.test/")).isFalse();
    }

    @Test
    void aTargetThatCannotBeCalledDoesNotOpenTheCircuitOfItsEndpoint() {
        EndpointIsolation isolation = isolation(PROPERTIES);
        for (int i = 0; i < 6; i++) {
            isolation.call(ACCOUNT, "https://shared.test/", () -> Mono.just(AttemptResult.failed(
                    Reason.INVALID_TARGET, "secret is not base64", Duration.ZERO))).block(Duration.ofSeconds(5));
        }

        assertThat(isolation.openCircuits()).isZero();
        StepVerifier.create(isolation.call(ACCOUNT, "https://shared.test/",
                        () -> Mono.just(AttemptResult.answered(200, Duration.ofMillis(1)))))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aClientErrorAnswerDoesNotOpenTheCircuit() {
        EndpointIsolation isolation = isolation(PROPERTIES);
        for (int i = 0; i < 6; i++) {
            isolation.call(ACCOUNT, "https://picky.test/",
                    () -> Mono.just(AttemptResult.answered(400, Duration.ofMillis(1)))).block(Duration.ofSeconds(5));
        }

        assertThat(isolation.openCircuits()).isZero();
    }

    @Test
    void aTryThatThrowsGivesItsSlotBackSoTheEndpointIsNotRefusingAfterwards() {
        EndpointIsolation isolation = isolation(PROPERTIES);
        for (int i = 0; i <= PROPERTIES.maxConcurrentPerEndpoint(); i++) {
            StepVerifier.create(isolation.call(ACCOUNT, "https://buggy.test/", () -> {
                        throw new IllegalArgumentException("not an IP literal");
                    }))
                    .expectError(IllegalArgumentException.class)
                    .verify(Duration.ofSeconds(5));
        }

        assertThat(isolation.refusing(ACCOUNT, "https://buggy.test/")).isFalse();
        StepVerifier.create(isolation.call(ACCOUNT, "https://buggy.test/", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aTrialThatErrorsGivesItsPermissionBackSoTheNextTryCanBeTheTrial() {
        EndpointIsolation isolation = isolation(new IsolationProperties(2, 64, 64, 50, 4, 4,
                Duration.ofMillis(200), Duration.ofMinutes(30)));
        openCircuitOf(isolation, "https://down.test/");
        await().atMost(Duration.ofSeconds(10)).until(() -> !isolation.refusing(ACCOUNT, "https://down.test/"));

        StepVerifier.create(isolation.call(ACCOUNT, "https://down.test/",
                        () -> Mono.error(new IllegalStateException("bug"))))
                .expectError(IllegalStateException.class)
                .verify(Duration.ofSeconds(5));

        StepVerifier.create(isolation.call(ACCOUNT, "https://down.test/", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void oneAccountsRateLimitOnASharedHostNeitherOpensItsCircuitNorRefusesAnotherAccount() {
        EndpointIsolation isolation = isolation(PROPERTIES);
        for (int i = 0; i < 10; i++) {
            isolation.call("acc-a", "https://hooks.slack.com/services/TA/BA/aaa",
                    () -> Mono.just(AttemptResult.answered(429, Duration.ofMillis(1)))).block(Duration.ofSeconds(5));
        }

        StepVerifier.create(isolation.call("acc-b", "https://hooks.slack.com/services/TB/BB/bbb",
                        () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.reason()).isEqualTo(Reason.OK))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        // A 429 without Retry-After is the delivery's to wait for (its retry schedule), not the endpoint failing.
        StepVerifier.create(isolation.call("acc-a", "https://hooks.slack.com/services/TA/BA/aaa",
                        () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.reason()).isEqualTo(Reason.OK))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(isolation.openCircuits()).isZero();
    }

    @Test
    void oneAccountsFailingEndpointOpensItsOwnCircuitOnlyNotThatOfAnotherAccountOnTheSameHost() {
        EndpointIsolation isolation = isolation(PROPERTIES);
        for (int i = 0; i < 4; i++) {
            isolation.call("acc-a", "https://hooks.zapier.com/hooks/catch/1/a/",
                    () -> Mono.just(AttemptResult.answered(503, Duration.ofMillis(1)))).block(Duration.ofSeconds(5));
        }

        StepVerifier.create(isolation.call("acc-a", "https://hooks.zapier.com/hooks/catch/1/a/",
                        () -> Mono.error(new AssertionError("called"))))
                .assertNext(result -> assertThat(result.reason()).isEqualTo(Reason.CIRCUIT_OPEN))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        StepVerifier.create(isolation.call("acc-b", "https://hooks.zapier.com/hooks/catch/2/b/",
                        () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.reason()).isEqualTo(Reason.OK))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(isolation.refusing("acc-a", "https://hooks.zapier.com/")).isTrue();
        assertThat(isolation.refusing("acc-b", "https://hooks.zapier.com/")).isFalse();
    }

    @Test
    void eachAccountHasItsOwnLimitOnAnEndpointWithinTheHostsLargerOne() {
        EndpointIsolation isolation = isolation(new IsolationProperties(2, 3, 64, 50, 4, 4,
                Duration.ofMinutes(1), Duration.ofMinutes(30)));
        Sinks.One<AttemptResult> hanging = Sinks.one();
        isolation.call("acc-a", "https://discord.com/api/webhooks/1/a", hanging::asMono).subscribe();
        isolation.call("acc-a", "https://discord.com/api/webhooks/1/a", hanging::asMono).subscribe();

        StepVerifier.create(isolation.call("acc-a", "https://discord.com/api/webhooks/1/a", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.reason()).isEqualTo(Reason.ENDPOINT_BUSY))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(isolation.refusing("acc-b", "https://discord.com/")).isFalse();
        isolation.call("acc-b", "https://discord.com/api/webhooks/2/b", hanging::asMono).subscribe();

        // The host's cap (3 over all accounts) is reached: a third account waits too, until a try ends.
        assertThat(isolation.refusing("acc-c", "https://discord.com/")).isTrue();
        StepVerifier.create(isolation.call("acc-c", "https://discord.com/api/webhooks/3/c", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.reason()).isEqualTo(Reason.ENDPOINT_BUSY))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        hanging.tryEmitValue(ok());
        assertThat(isolation.refusing("acc-c", "https://discord.com/")).isFalse();
        StepVerifier.create(isolation.call("acc-c", "https://discord.com/api/webhooks/3/c", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aCrowdedHostKeepsItsLastQuarterForAccountsWithFewTriesThere() {
        // 8 tries per account's endpoint, 16 over all accounts to the host: crowded from 12, few tries below 2.
        EndpointIsolation isolation = isolation(new IsolationProperties(8, 16, 64, 50, 4, 4,
                Duration.ofMinutes(1), Duration.ofMinutes(30)));
        Sinks.One<AttemptResult> hanging = Sinks.one();
        AtomicInteger started = new AtomicInteger();
        Supplier<Mono<AttemptResult>> slow = () -> {
            started.incrementAndGet();
            return hanging.asMono();
        };
        for (int i = 0; i < 8; i++) {
            isolation.call("acc-a", "https://hooks.zapier.com/a", slow).subscribe();
        }
        for (int i = 0; i < 4; i++) {
            isolation.call("acc-b", "https://hooks.zapier.com/b", slow).subscribe();
        }
        assertThat(started).hasValue(12);

        assertThat(isolation.refusing("acc-b", "https://hooks.zapier.com/b")).as("4 in flight, below its 8").isTrue();
        StepVerifier.create(isolation.call("acc-b", "https://hooks.zapier.com/b", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.reason()).isEqualTo(Reason.ENDPOINT_BUSY))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(busy("host")).isEqualTo(1);

        assertThat(isolation.refusing("acc-c", "https://hooks.zapier.com/c")).isFalse();
        isolation.call("acc-c", "https://hooks.zapier.com/c", slow).subscribe();
        isolation.call("acc-c", "https://hooks.zapier.com/c", slow).subscribe();
        assertThat(started).as("an account with few tries there takes the kept quarter").hasValue(14);
        assertThat(isolation.refusing("acc-c", "https://hooks.zapier.com/c")).isTrue();

        hanging.tryEmitValue(ok());
        assertThat(isolation.refusing("acc-b", "https://hooks.zapier.com/b")).isFalse();
        StepVerifier.create(isolation.call("acc-b", "https://hooks.zapier.com/b", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aRetryAfterOnA429HoldsBackThatAccountsTriesOfTheEndpointUntilThenAtMostTheOpenDuration() {
        EndpointIsolation isolation = isolation(PROPERTIES);
        StepVerifier.create(isolation.call("acc-a", "https://hooks.slack.com/services/TA/BA/aaa",
                        () -> Mono.just(AttemptResult.answered(429, Duration.ofMillis(1), "slow down",
                                Duration.ofHours(1)))))
                .assertNext(result -> assertThat(result.statusCode()).isEqualTo(429))
                .expectComplete()
                .verify(Duration.ofSeconds(5));

        StepVerifier.create(isolation.call("acc-a", "https://hooks.slack.com/services/TA/BA/aaa",
                        () -> Mono.error(new AssertionError("called"))))
                .assertNext(result -> {
                    assertThat(result.reason()).isEqualTo(Reason.RATE_LIMITED);
                    assertThat(result.refusedLocally()).isTrue();
                    assertThat(result.retryAfter()).isBetween(Duration.ofSeconds(50), Duration.ofMinutes(1));
                })
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(isolation.refusing("acc-a", "https://hooks.slack.com/")).isTrue();
        assertThat(isolation.refusing("acc-b", "https://hooks.slack.com/")).isFalse();
        assertThat(isolation.openCircuits()).isZero();
    }

    @Test
    void aRetryAfterOfCenturiesBacksOffForTheOpenDurationWithoutFailingTheTry() {
        EndpointIsolation isolation = isolation(PROPERTIES);
        StepVerifier.create(isolation.call(ACCOUNT, "https://centuries.test/", () -> Mono.just(AttemptResult.answered(
                        429, Duration.ofMillis(1), null, Duration.ofSeconds(Long.MAX_VALUE / 2)))))
                .assertNext(result -> assertThat(result.statusCode()).isEqualTo(429))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        StepVerifier.create(isolation.call(ACCOUNT, "https://centuries.test/", () -> Mono.error(new AssertionError(
                        "called"))))
                .assertNext(result -> {
                    assertThat(result.reason()).isEqualTo(Reason.RATE_LIMITED);
                    assertThat(result.retryAfter()).isBetween(Duration.ofSeconds(50), Duration.ofMinutes(1));
                })
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void aRetryAfterIsReadAsAtMostADay() {
        assertThat(HttpWebhookTransport.retryAfter("10000000000")).isEqualTo(Duration.ofDays(1));
        assertThat(HttpWebhookTransport.retryAfter("Fri, 31 Dec 9999 23:59:59 GMT")).isEqualTo(Duration.ofDays(1));
        assertThat(HttpWebhookTransport.retryAfter("120")).isEqualTo(Duration.ofMinutes(2));
        assertThat(HttpWebhookTransport.retryAfter("-5")).isEqualTo(Duration.ZERO);
        assertThat(HttpWebhookTransport.retryAfter("soon")).isNull();
    }

    @Test
    void aBackOffEndsWithItsRetryAfter() {
        EndpointIsolation isolation = isolation(PROPERTIES);
        isolation.call(ACCOUNT, "https://busy.test/", () -> Mono.just(AttemptResult.answered(429,
                Duration.ofMillis(1), null, Duration.ofMillis(300)))).block(Duration.ofSeconds(5));
        assertThat(isolation.refusing(ACCOUNT, "https://busy.test/")).isTrue();

        await().atMost(Duration.ofSeconds(10)).until(() -> !isolation.refusing(ACCOUNT, "https://busy.test/"));
        StepVerifier.create(isolation.call(ACCOUNT, "https://busy.test/", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void anAccountWithItsLimitInFlightOverHostsOfItsOwnIsRefusedAtOnceAndAnotherAccountIsNot() {
        EndpointIsolation isolation = isolation(ACCOUNT_LIMIT);
        Sinks.One<AttemptResult> hanging = Sinks.one();
        // A host per call: each endpoint's own limit (2) is far from reached.
        for (int call = 1; call <= 3; call++) {
            isolation.call("acc-a", "https://call-" + call + ".app.test/status", hanging::asMono).subscribe();
        }
        assertThat(isolation.accountRefusing("acc-a")).isTrue();
        assertThat(isolation.refusing("acc-a", "https://call-4.app.test/")).isTrue();
        assertThat(isolation.refusing("acc-b", "https://call-4.app.test/")).isFalse();

        StepVerifier.create(isolation.call("acc-a", "https://call-4.app.test/status",
                        () -> Mono.error(new AssertionError("called"))))
                .assertNext(result -> {
                    assertThat(result.reason()).isEqualTo(Reason.ENDPOINT_BUSY);
                    assertThat(result.error()).isEqualTo("account busy");
                    assertThat(result.refusedLocally()).isTrue();
                })
                .expectComplete()
                .verify(Duration.ofMillis(500));
        StepVerifier.create(isolation.call("acc-b", "https://call-4.app.test/status", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(busy("account")).isEqualTo(1);
        assertThat(busy("endpoint")).isZero();
        assertThat(busy("host")).isZero();

        hanging.tryEmitValue(ok());
        assertThat(isolation.accountRefusing("acc-a")).isFalse();
        StepVerifier.create(isolation.call("acc-a", "https://call-4.app.test/status", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void anAccountsSlotIsGivenBackWhenItsTrySucceedsFailsErrorsThrowsOrIsCancelled() {
        EndpointIsolation isolation = isolation(new IsolationProperties(2, 64, 1, 50, 100, 100,
                Duration.ofMinutes(1), Duration.ofMinutes(30)));
        AtomicInteger calls = new AtomicInteger();

        isolation.call(ACCOUNT, "https://a.test/", () -> Mono.just(ok())).block(Duration.ofSeconds(5));
        assertThat(isolation.accountRefusing(ACCOUNT)).isFalse();
        isolation.call(ACCOUNT, "https://b.test/", () -> Mono.just(AttemptResult.answered(503, Duration.ofMillis(1))))
                .block(Duration.ofSeconds(5));
        assertThat(isolation.accountRefusing(ACCOUNT)).isFalse();
        StepVerifier.create(isolation.call(ACCOUNT, "https://c.test/", () -> Mono.error(new IllegalStateException())))
                .expectError(IllegalStateException.class)
                .verify(Duration.ofSeconds(5));
        assertThat(isolation.accountRefusing(ACCOUNT)).isFalse();
        StepVerifier.create(isolation.call(ACCOUNT, "https://d.test/", () -> {
                    throw new IllegalArgumentException("not an IP literal");
                }))
                .expectError(IllegalArgumentException.class)
                .verify(Duration.ofSeconds(5));
        assertThat(isolation.accountRefusing(ACCOUNT)).isFalse();

        Disposable hanging = isolation.call(ACCOUNT, "https://e.test/", Mono::never).subscribe();
        assertThat(isolation.accountRefusing(ACCOUNT)).isTrue();
        hanging.dispose();
        assertThat(isolation.accountRefusing(ACCOUNT)).isFalse();

        StepVerifier.create(isolation.call(ACCOUNT, "https://f.test/", () -> {
                    calls.incrementAndGet();
                    return Mono.just(ok());
                }))
                .assertNext(result -> assertThat(result.succeeded()).isTrue())
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        assertThat(calls).hasValue(1);
        assertThat(busy("account")).isZero();
    }

    @Test
    void anAccountWithTriesInFlightIsNotForgottenWhenIdleEvictionSweeps() {
        EndpointIsolation isolation = isolation(new IsolationProperties(2, 64, 1, 50, 4, 4,
                Duration.ofMinutes(1), Duration.ofMillis(100)));
        Sinks.One<AttemptResult> hanging = Sinks.one();
        isolation.call("acc-a", "https://slow.test/", hanging::asMono).subscribe();
        await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> true);

        // Another account's try sweeps what has been idle; the hanging try still holds acc-a's only slot.
        isolation.call("acc-b", "https://other.test/", () -> Mono.just(ok())).block(Duration.ofSeconds(5));

        StepVerifier.create(isolation.call("acc-a", "https://elsewhere.test/", () -> Mono.just(ok())))
                .assertNext(result -> assertThat(result.error()).isEqualTo("account busy"))
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        hanging.tryEmitValue(ok());
        assertThat(isolation.accountRefusing("acc-a")).isFalse();
    }

    private EndpointIsolation isolation(IsolationProperties properties) {
        return new EndpointIsolation(properties, new DeliveryMetrics(registry));
    }

    private double busy(String limit) {
        return registry.get("dialer.webhook.isolation.busy").tag("limit", limit).counter().count();
    }

    private static void openCircuitOf(EndpointIsolation isolation, String url) {
        for (int i = 0; i < 4; i++) {
            isolation.call(ACCOUNT, url, () -> Mono.just(AttemptResult.failed(Reason.CONNECTION, "refused",
                    Duration.ofMillis(1)))).block(Duration.ofSeconds(5));
        }
    }

    private static AttemptResult ok() {
        return AttemptResult.answered(200, Duration.ofMillis(1));
    }
}
