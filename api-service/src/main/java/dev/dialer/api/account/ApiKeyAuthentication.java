package dev.dialer.api.account;

import dev.dialer.api.problem.Problems;
import java.time.Clock;
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
 * Verified keys are cached for {@code dialer.api.auth.cache-ttl}; unknown keys always go to the database, so a key
 * registered a moment ago works at once.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 20)
class ApiKeyAuthentication implements WebFilter {

    private static final String BEARER = "bearer ";

    private final AccountRepository accounts;
    private final KeyCache cache;

    ApiKeyAuthentication(AccountRepository accounts, AuthProperties properties) {
        this.accounts = accounts;
        this.cache = new KeyCache(properties.cacheTtl(), properties.cacheSize(), Clock.systemUTC());
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String path = exchange.getRequest().getPath().pathWithinApplication().value();
        if (!path.startsWith("/api/") && !path.startsWith("/v1/")) {
            return chain.filter(exchange);
        }
        String key = bearerKey(exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION));
        if (key == null) {
            return Mono.error(Problems.unauthorized("Send the API key as 'Authorization: Bearer <key>'."));
        }
        return accountOf(ApiKeys.hash(key))
                .switchIfEmpty(Mono.error(() -> Problems.unauthorized("The API key is not valid.")))
                .flatMap(account -> {
                    exchange.getAttributes().put(Account.ATTRIBUTE, account);
                    return chain.filter(exchange);
                });
    }

    private Mono<Account> accountOf(String keyHash) {
        Account cached = cache.get(keyHash);
        if (cached != null) {
            return Mono.just(cached);
        }
        return accounts.findByKeyHash(keyHash).doOnNext(account -> cache.put(keyHash, account));
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
