package dev.dialer.api.account;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.Problems;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Requires {@code Authorization: Bearer <key>} (or the bare key) on {@code /api/**} and {@code /v1/**} and puts the
 * key's {@link Account} on the
 * exchange ({@link Account#ATTRIBUTE}); anything else is a 401 problem. Other paths (actuator) stay open.
 * Verified keys are cached for {@code dialer.api.auth.cache-ttl}; unknown ones for the shorter
 * {@code unknown-key-ttl} ({@link UnknownKeys}), so a wrong key repeated costs one query per TTL. A remote address
 * whose unknown keys exceed {@code max-failures} per {@code failure-window} gets 429 with {@code Retry-After} for
 * any key not already verified ({@link FailedAuthentications}): the per-account limit cannot stop a caller that has
 * no account.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 20)
class ApiKeyAuthentication implements WebFilter {

    private static final Logger log = LoggerFactory.getLogger(ApiKeyAuthentication.class);
    private static final String BEARER = "bearer ";
    private static final String NO_ADDRESS = "unknown";

    private final AccountRepository accounts;
    private final KeyCache cache;
    private final UnknownKeys unknownKeys;
    private final FailedAuthentications failures;
    private final AuthProperties properties;
    private final Counter noKey;
    private final Counter unknownKey;
    private final Counter tooManyFailures;
    private final Counter found;
    private final Counter notFound;

    @Autowired
    ApiKeyAuthentication(AccountRepository accounts, AuthProperties properties, MeterRegistry registry) {
        this(accounts, properties, registry, Clock.systemUTC());
    }

    ApiKeyAuthentication(AccountRepository accounts, AuthProperties properties, MeterRegistry registry, Clock clock) {
        this.accounts = accounts;
        this.properties = properties;
        this.noKey = rejected(registry, "no_key");
        this.unknownKey = rejected(registry, "unknown_key");
        this.tooManyFailures = rejected(registry, "too_many_failures");
        this.found = lookups(registry, "found");
        this.notFound = lookups(registry, "unknown");
        this.cache = new KeyCache(properties.cacheTtl(), properties.cacheSize(), clock);
        this.unknownKeys = new UnknownKeys(properties.unknownKeyTtl(), properties.unknownKeyCacheSize(), clock);
        this.failures = new FailedAuthentications(properties.maxFailures(), properties.failureWindow(),
                properties.failureAddresses());
        Gauge.builder("dialer.api.auth.failing_addresses", failures, FailedAuthentications::size)
                .description("Remote addresses whose failed authentications are being counted")
                .register(registry);
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String path = exchange.getRequest().getPath().pathWithinApplication().value();
        if (!path.startsWith("/api/") && !path.startsWith("/v1/")) {
            return chain.filter(exchange);
        }
        String key = bearerKey(exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION));
        if (key == null) {
            noKey.increment();
            return Mono.error(Problems.unauthorized("Send the API key as 'Authorization: Bearer <key>'."));
        }
        return accountOf(ApiKeys.hash(key), addressOf(exchange))
                .flatMap(account -> {
                    exchange.getAttributes().put(Account.ATTRIBUTE, account);
                    return chain.filter(exchange);
                });
    }

    /** A key registered by this process works at once, even if it was tried (and unknown) a moment ago. */
    void registered(String keyHash) {
        unknownKeys.forget(keyHash);
    }

    /**
     * A key revoked by this process stops working here at once; other instances accept it until their cache entry
     * ends ({@code dialer.api.auth.cache-ttl}).
     */
    void revoked(String keyHash) {
        cache.remove(keyHash);
    }

    private Mono<Account> accountOf(String keyHash, String address) {
        Account cached = cache.get(keyHash);
        if (cached != null) {
            return Mono.just(cached);
        }
        Duration blocked = failures.blockedFor(address);
        if (!blocked.isZero()) {
            tooManyFailures.increment();
            return Mono.error(tooManyFailures(blocked));
        }
        if (unknownKeys.contains(keyHash)) {
            return unknownKey(address);
        }
        return accounts.findByKeyHash(keyHash)
                .doOnNext(account -> {
                    found.increment();
                    cache.put(keyHash, account);
                })
                .switchIfEmpty(Mono.defer(() -> {
                    notFound.increment();
                    unknownKeys.add(keyHash);
                    return unknownKey(address);
                }));
    }

    private Mono<Account> unknownKey(String address) {
        unknownKey.increment();
        if (failures.record(address)) {
            log.warn("{} requests with an unknown API key from {} within {}; its keys are not looked up, and it "
                    + "is answered 429, until the window ends", properties.maxFailures(), address,
                    properties.failureWindow());
        }
        return Mono.error(() -> Problems.unauthorized("The API key is not valid."));
    }

    private static ApiProblem tooManyFailures(Duration retryAfter) {
        ApiProblem problem = Problems.rateLimited(retryAfter);
        problem.getBody().setDetail("Too many requests with an API key that is not valid came from this address; "
                + "retry in " + problem.getHeaders().getFirst(HttpHeaders.RETRY_AFTER) + " s.");
        return problem;
    }

    private static String addressOf(ServerWebExchange exchange) {
        InetSocketAddress remote = exchange.getRequest().getRemoteAddress();
        return remote == null || remote.getAddress() == null ? NO_ADDRESS : remote.getAddress().getHostAddress();
    }

    private static Counter rejected(MeterRegistry registry, String reason) {
        return Counter.builder("dialer.api.auth.rejected")
                .description("Requests refused by API key authentication, by reason (no_key, unknown_key, "
                        + "too_many_failures)")
                .tag("reason", reason)
                .register(registry);
    }

    private static Counter lookups(MeterRegistry registry, String result) {
        return Counter.builder("dialer.api.auth.key_lookups")
                .description("API keys looked up in the database (in neither cache), by result")
                .tag("result", result)
                .register(registry);
    }

    /**
     * The key of {@code Bearer <key>}, or of a bare {@code <key>} (the Voice Gateway's v1 document shows
     * {@code Authorization: <api_key>}); null for another scheme or no key.
     */
    static String bearerKey(String header) {
        if (header != null && !header.isBlank() && header.strip().indexOf(' ') < 0
                && !header.strip().equalsIgnoreCase(BEARER.strip())) {
            return header.strip();
        }
        if (header == null || header.length() <= BEARER.length()
                || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            return null;
        }
        String key = header.substring(BEARER.length()).strip();
        return key.isEmpty() ? null : key;
    }
}
