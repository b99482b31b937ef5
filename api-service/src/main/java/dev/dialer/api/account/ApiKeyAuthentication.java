package dev.dialer.api.account;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.Problems;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.PathContainer;
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
 * any key known to be unknown ({@link FailedAuthentications}): the per-account limit cannot stop a caller that has
 * no account. Its other keys are still looked up, at most {@code blocked-lookups} per {@code blocked-lookup-period}
 * for all such addresses together, and 429 beyond that: behind a load balancer the address is every client's, and
 * one client's wrong keys must not lock out the valid keys this instance has not verified yet (after a restart, all).
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 20)
class ApiKeyAuthentication implements WebFilter {

    private static final Logger log = LoggerFactory.getLogger(ApiKeyAuthentication.class);
    private static final String BEARER = "bearer ";
    private static final String NO_ADDRESS = "unknown";

    private final AccountRepository accounts;
    private final KeyCache<Account> cache;
    private final UnknownKeys unknownKeys;
    private final FailedAuthentications failures;
    private final AuthProperties properties;
    private final Counter noKey;
    private final Counter unknownKey;
    private final Counter tooManyFailures;
    private final Counter found;
    private final Counter notFound;
    private final RateLimiter blockedLookups;
    private final AtomicBoolean blockedLookupsUsedUp = new AtomicBoolean();
    private final Counter blockedLookedUp;
    private final Counter blockedNotLookedUp;

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
        this.cache = new KeyCache<>(properties.cacheTtl(), properties.cacheSize(), clock);
        this.unknownKeys = new UnknownKeys(properties.unknownKeyTtl(), properties.unknownKeyCacheSize(), clock);
        this.failures = new FailedAuthentications(properties.maxFailures(), properties.failureWindow(),
                properties.failureAddresses());
        this.blockedLookups = properties.blockedLookups() == 0 ? null : RateLimiter.of("blocked-address-lookups",
                RateLimiterConfig.custom()
                        .limitForPeriod(properties.blockedLookups())
                        .limitRefreshPeriod(properties.blockedLookupPeriod())
                        .timeoutDuration(Duration.ZERO)
                        .build());
        this.blockedLookedUp = blockedLookups(registry, "looked_up");
        this.blockedNotLookedUp = blockedLookups(registry, "limited");
        Gauge.builder("dialer.api.auth.failing_addresses", failures, FailedAuthentications::size)
                .description("Remote addresses whose failed authentications are being counted")
                .register(registry);
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        if (!needsKey(exchange.getRequest().getPath().pathWithinApplication())) {
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

    /**
     * Whether the path is under {@code /api} or {@code /v1} as the handlers' mappings read it: by its first segment
     * decoded and without matrix parameters, so {@code /%61pi/v2/calls} or {@code /api;x=1/v2/calls}, which reach
     * the same handler as {@code /api/v2/calls}, need a key as much.
     */
    static boolean needsKey(PathContainer path) {
        for (PathContainer.Element element : path.elements()) {
            if (element instanceof PathContainer.PathSegment segment && !segment.valueToMatch().isEmpty()) {
                String first = segment.valueToMatch();
                return first.equals("api") || first.equals("v1");
            }
        }
        return false;
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
            return fromBlockedAddress(keyHash, address, blocked);
        }
        if (unknownKeys.contains(keyHash)) {
            return unknownKey(address);
        }
        return lookUp(keyHash).switchIfEmpty(Mono.defer(() -> unknownKey(address)));
    }

    /**
     * A key from an address that used up its failures: refused if known to be unknown, else looked up within the
     * budget all blocked addresses share, so a flood of fresh wrong keys costs at most that many queries.
     */
    private Mono<Account> fromBlockedAddress(String keyHash, String address, Duration blocked) {
        if (unknownKeys.contains(keyHash) || !blockedLookupAllowed(address)) {
            return refusedAsBlocked(blocked);
        }
        return lookUp(keyHash).switchIfEmpty(Mono.defer(() -> refusedAsBlocked(blocked)));
    }

    private boolean blockedLookupAllowed(String address) {
        if (blockedLookups != null && blockedLookups.acquirePermission()) {
            blockedLookupsUsedUp.set(false);
            blockedLookedUp.increment();
            return true;
        }
        blockedNotLookedUp.increment();
        if (blockedLookupsUsedUp.compareAndSet(false, true)) {
            log.warn("Keys from addresses answered 429 used up their {} lookups per {} (last from {}); until it "
                    + "refills, keys this instance has not verified are answered 429 from those addresses, valid "
                    + "ones too", properties.blockedLookups(), properties.blockedLookupPeriod(), address);
        }
        return false;
    }

    /** The key's account, cached; empty, and remembered as unknown, if the database does not know the key. */
    private Mono<Account> lookUp(String keyHash) {
        return accounts.findByKeyHash(keyHash)
                .doOnNext(account -> {
                    found.increment();
                    cache.put(keyHash, account);
                })
                .switchIfEmpty(Mono.fromRunnable(() -> {
                    notFound.increment();
                    unknownKeys.add(keyHash);
                }));
    }

    private Mono<Account> refusedAsBlocked(Duration blocked) {
        tooManyFailures.increment();
        return Mono.error(tooManyFailures(blocked));
    }

    private Mono<Account> unknownKey(String address) {
        unknownKey.increment();
        if (failures.record(address)) {
            log.warn("{} requests with an unknown API key from {} within {}; until the window ends it is answered "
                    + "429 for keys known to be unknown, and its other keys are looked up within {} per {} shared "
                    + "by all such addresses", properties.maxFailures(), address, properties.failureWindow(),
                    properties.blockedLookups(), properties.blockedLookupPeriod());
        }
        return Mono.error(() -> Problems.unauthorized("The API key is not valid."));
    }

    private static Counter blockedLookups(MeterRegistry registry, String result) {
        return Counter.builder("dialer.api.auth.blocked_address_lookups")
                .description("Keys not known to be unknown from addresses answered 429: looked up within "
                        + "dialer.api.auth.blocked-lookups, or limited (answered 429 unread)")
                .tag("result", result)
                .register(registry);
    }

    private static ApiProblem tooManyFailures(Duration retryAfter) {
        ApiProblem problem = Problems.rateLimited(retryAfter);
        problem.getBody().setDetail("Too many requests with an API key that is not valid came from this address; "
                + "retry in " + problem.getHeaders().getFirst(HttpHeaders.RETRY_AFTER) + " s.");
        return problem;
    }

    private static String addressOf(ServerWebExchange exchange) {
        InetSocketAddress remote = exchange.getRequest().getRemoteAddress();
        return remote == null || remote.getAddress() == null ? NO_ADDRESS : failingAddress(remote.getAddress());
    }

    /**
     * The address failures are counted under: an IPv4 address itself; an IPv6 address's /64, which one client
     * commonly holds whole (a caller could otherwise fail from a fresh address at every try).
     */
    static String failingAddress(InetAddress address) {
        if (!(address instanceof Inet6Address)) {
            return address.getHostAddress();
        }
        byte[] prefix = Arrays.copyOf(address.getAddress(), 16);
        Arrays.fill(prefix, 8, 16, (byte) 0);
        try {
            return InetAddress.getByAddress(prefix).getHostAddress() + "/64";
        } catch (UnknownHostException impossible) {
            throw new IllegalStateException(impossible);
        }
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
