package dev.dialer.api.account;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.TestClock;
import dev.dialer.api.problem.ApiProblem;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class ApiKeyAuthenticationTest {

    private static final Account ACME = new Account("acme", "Acme", "IN");
    private static final String KNOWN = "dk_known_0123456789abcdefghijklmnopqrstuvwxyz";
    private static final String UNKNOWN = "dk_unknown_0123456789abcdefghijklmnopqrstuvwxyz";
    private static final String ATTACKER = "203.0.113.7";
    private static final String NEIGHBOUR = "198.51.100.9";
    private static final Duration UNKNOWN_TTL = Duration.ofSeconds(5);

    private final TestClock clock = new TestClock();
    private final CountingAccounts accounts = new CountingAccounts();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void shouldLookUpARepeatedUnknownKeyOncePerTimeToLive() {
        ApiKeyAuthentication authentication = authentication(1_000, Duration.ofSeconds(10));

        for (int i = 0; i < 50; i++) {
            assertThat(status(authentication, UNKNOWN, ATTACKER)).isEqualTo(401);
        }
        assertThat(accounts.lookups).hasValue(1);

        clock.advance(UNKNOWN_TTL);
        assertThat(status(authentication, UNKNOWN, ATTACKER)).isEqualTo(401);
        assertThat(accounts.lookups).hasValue(2);
        assertThat(registry.get("dialer.api.auth.rejected").tag("reason", "unknown_key").counter().count())
                .isEqualTo(51);
    }

    @Test
    void shouldAcceptAKeyAddedAfterItWasTriedOnceItsUnknownEntryEnds() {
        ApiKeyAuthentication authentication = authentication(1_000, Duration.ofSeconds(10));
        assertThat(status(authentication, KNOWN, ATTACKER)).isEqualTo(401);

        accounts.add(KNOWN, ACME);
        assertThat(status(authentication, KNOWN, ATTACKER)).as("still remembered as unknown").isEqualTo(401);
        clock.advance(UNKNOWN_TTL);

        assertThat(status(authentication, KNOWN, ATTACKER)).isEqualTo(200);
    }

    @Test
    void shouldAcceptAKeyRegisteredByThisProcessAtOnce() {
        ApiKeyAuthentication authentication = authentication(1_000, Duration.ofSeconds(10));
        assertThat(status(authentication, KNOWN, ATTACKER)).isEqualTo(401);

        accounts.add(KNOWN, ACME);
        authentication.registered(ApiKeys.hash(KNOWN));

        assertThat(status(authentication, KNOWN, ATTACKER)).isEqualTo(200);
    }

    @Test
    void shouldAnswer429WithoutALookupForAKnownUnknownKeyOnceAnAddressUsedUpItsFailures() {
        ApiKeyAuthentication authentication = authentication(3, Duration.ofMinutes(1));
        accounts.add(KNOWN, ACME);
        assertThat(status(authentication, KNOWN, ATTACKER)).isEqualTo(200);
        for (int i = 0; i < 3; i++) {
            assertThat(status(authentication, UNKNOWN + i, ATTACKER)).isEqualTo(401);
        }
        int lookups = accounts.lookups.get();

        ApiProblem refused = problem(authentication, UNKNOWN + 0, ATTACKER);

        assertThat(refused.getStatusCode().value()).isEqualTo(429);
        assertThat(Integer.parseInt(refused.getHeaders().getFirst(HttpHeaders.RETRY_AFTER))).isBetween(1, 60);
        assertThat(refused.getBody().getDetail()).contains("not valid");
        assertThat(accounts.lookups).hasValue(lookups);
        assertThat(status(authentication, KNOWN, ATTACKER)).as("a verified key still works").isEqualTo(200);
        assertThat(status(authentication, UNKNOWN + "y", NEIGHBOUR)).as("another address").isEqualTo(401);
        assertThat(registry.get("dialer.api.auth.rejected").tag("reason", "too_many_failures").counter().count())
                .isEqualTo(1);
    }

    @Test
    void shouldAcceptAValidUncachedKeyFromAnAddressAnotherClientGotBlocked() {
        ApiKeyAuthentication authentication = authentication(20, Duration.ofSeconds(10));
        accounts.add(KNOWN, ACME);
        for (int i = 0; i < 20; i++) {
            assertThat(status(authentication, UNKNOWN + i, ATTACKER)).isEqualTo(401);
        }
        assertThat(status(authentication, UNKNOWN + "x", ATTACKER)).as("the address is blocked").isEqualTo(429);

        assertThat(status(authentication, KNOWN, ATTACKER)).as("a valid key behind the same address").isEqualTo(200);
        assertThat(status(authentication, UNKNOWN + "x", ATTACKER)).as("now known unknown").isEqualTo(429);
    }

    @Test
    void shouldLookUpAtMostTheBoundedNumberOfFreshKeysFromBlockedAddresses() {
        ApiKeyAuthentication authentication = authentication(3, Duration.ofMinutes(1), 4, Duration.ofHours(1));
        accounts.add(KNOWN, ACME);
        for (int i = 0; i < 3; i++) {
            assertThat(status(authentication, UNKNOWN + i, ATTACKER)).isEqualTo(401);
        }
        int lookups = accounts.lookups.get();

        for (int i = 0; i < 200; i++) {
            assertThat(status(authentication, UUID.randomUUID().toString(), ATTACKER)).isEqualTo(429);
        }

        assertThat(accounts.lookups.get() - lookups).isEqualTo(4);
        assertThat(status(authentication, KNOWN, ATTACKER)).as("beyond the bound, 429 unread").isEqualTo(429);
        assertThat(accounts.lookups.get() - lookups).isEqualTo(4);
        assertThat(registry.get("dialer.api.auth.blocked_address_lookups").tag("result", "limited").counter()
                .count()).isEqualTo(197);
    }

    @Test
    void shouldCountFailuresOfAtMostTheConfiguredNumberOfAddresses() {
        FailedAuthentications failures = new FailedAuthentications(2, Duration.ofMinutes(1), 3);

        for (int i = 0; i < 10; i++) {
            failures.record("192.0.2." + i);
            assertThat(failures.size()).isLessThanOrEqualTo(3);
        }
        assertThat(failures.record("192.0.2.9")).as("the last address kept its count").isTrue();
        assertThat(failures.blockedFor("192.0.2.9")).isPositive();
    }

    @Test
    void shouldKeepTheBlocksInForceWhenRoomIsMadeForAnotherAddress() {
        FailedAuthentications failures = new FailedAuthentications(2, Duration.ofMinutes(1), 3);
        failures.record("192.0.2.1");
        failures.record("192.0.2.1");
        failures.record("192.0.2.2");
        failures.record("192.0.2.3");

        failures.record("192.0.2.4");

        assertThat(failures.blockedFor("192.0.2.1")).as("refused still").isPositive();
        assertThat(failures.size()).isLessThanOrEqualTo(3);
    }

    @Test
    void shouldCountTheFailuresOfAnIpv6AddressUnderItsSlash64() throws Exception {
        assertThat(ApiKeyAuthentication.failingAddress(InetAddress.getByName("2001:db8:1:2:aaaa::1")))
                .isEqualTo(ApiKeyAuthentication.failingAddress(InetAddress.getByName("2001:db8:1:2:bbbb::2")))
                .isEqualTo("2001:db8:1:2:0:0:0:0/64");
        assertThat(ApiKeyAuthentication.failingAddress(InetAddress.getByName("2001:db8:1:3::1")))
                .isEqualTo("2001:db8:1:3:0:0:0:0/64");
        assertThat(ApiKeyAuthentication.failingAddress(InetAddress.getByName("192.0.2.7"))).isEqualTo("192.0.2.7");
    }

    @Test
    void shouldRequireAKeyOnEveryFormOfAPathTheApiHandlersServe() {
        ApiKeyAuthentication authentication = authentication(1_000, Duration.ofSeconds(10));

        for (String path : new String[] {"/api/v2/calls", "/%61pi/v2/calls", "/api;x=1/v2/calls",
                "/v%31/Accounts/AC1/Calls"}) {
            boolean[] passed = new boolean[1];
            ServerWebExchange exchange = MockServerWebExchange.from(
                    MockServerHttpRequest.method(HttpMethod.GET, URI.create(path)));
            authentication.filter(exchange, through -> Mono.fromRunnable(() -> passed[0] = true))
                    .as(StepVerifier::create)
                    .expectErrorSatisfies(error -> assertThat(((ApiProblem) error).getStatusCode().value())
                            .as(path).isEqualTo(401))
                    .verify(Duration.ofSeconds(5));
            assertThat(passed[0]).as(path).isFalse();
        }
    }

    @Test
    void shouldLetOperationalPathsThroughWithoutAKey() {
        ApiKeyAuthentication authentication = authentication(1_000, Duration.ofSeconds(10));

        for (String path : new String[] {"/actuator/health", "/v3/api-docs", "/", "/apis/x", "/v11/x"}) {
            boolean[] passed = new boolean[1];
            ServerWebExchange exchange = MockServerWebExchange.from(
                    MockServerHttpRequest.method(HttpMethod.GET, URI.create(path)));
            authentication.filter(exchange, through -> Mono.fromRunnable(() -> passed[0] = true))
                    .as(StepVerifier::create)
                    .expectComplete()
                    .verify(Duration.ofSeconds(5));
            assertThat(passed[0]).as(path).isTrue();
        }
    }

    private ApiKeyAuthentication authentication(int maxFailures, Duration window) {
        return authentication(maxFailures, window, 5, Duration.ofSeconds(1));
    }

    private ApiKeyAuthentication authentication(int maxFailures, Duration window, int blockedLookups,
            Duration blockedLookupPeriod) {
        AuthProperties properties = new AuthProperties(Duration.ofSeconds(60), 100, UNKNOWN_TTL, 100, maxFailures,
                window, 100, blockedLookups, blockedLookupPeriod);
        return new ApiKeyAuthentication(accounts, properties, registry, clock);
    }

    private static int status(ApiKeyAuthentication authentication, String key, String address) {
        ServerWebExchange exchange = exchange(key, address);
        AtomicInteger status = new AtomicInteger(200);
        authentication.filter(exchange, passed -> Mono.empty())
                .onErrorResume(ApiProblem.class, problem -> {
                    status.set(problem.getStatusCode().value());
                    return Mono.empty();
                })
                .as(StepVerifier::create)
                .expectComplete()
                .verify(Duration.ofSeconds(5));
        if (status.get() == 200) {
            assertThat((Account) exchange.getAttribute(Account.ATTRIBUTE)).isEqualTo(ACME);
        }
        return status.get();
    }

    private static ApiProblem problem(ApiKeyAuthentication authentication, String key, String address) {
        ApiProblem[] refused = new ApiProblem[1];
        authentication.filter(exchange(key, address), passed -> Mono.empty())
                .as(StepVerifier::create)
                .expectErrorSatisfies(error -> refused[0] = (ApiProblem) error)
                .verify(Duration.ofSeconds(5));
        return refused[0];
    }

    private static ServerWebExchange exchange(String key, String address) {
        return MockServerWebExchange.from(MockServerHttpRequest.get("/api/v2/calls")
                .header(HttpHeaders.AUTHORIZATION, "Bearer " + key)
                .remoteAddress(new InetSocketAddress(address, 40_000)));
    }

    /** The accounts table, counting the lookups that reach it. */
    private static final class CountingAccounts extends AccountRepository {

        final AtomicInteger lookups = new AtomicInteger();
        private final Map<String, Account> byHash = new ConcurrentHashMap<>();

        CountingAccounts() {
            super(null);
        }

        void add(String key, Account account) {
            byHash.put(ApiKeys.hash(key), account);
        }

        @Override
        Mono<Account> findByKeyHash(String keyHash) {
            lookups.incrementAndGet();
            return Mono.justOrEmpty(byHash.get(keyHash));
        }
    }
}
