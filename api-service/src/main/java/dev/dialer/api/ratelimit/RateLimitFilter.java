package dev.dialer.api.ratelimit;

import dev.dialer.api.account.Account;
import dev.dialer.api.problem.Problems;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Limits each account's request rate ({@link RateLimitProperties}); runs right after authentication, so the account
 * is known. A request over the rate is answered {@code 429} problem+json with {@code Retry-After} (whole seconds,
 * at least 1) and is not handled at all.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 30)
class RateLimitFilter implements WebFilter {

    private static final Logger log = LoggerFactory.getLogger(RateLimitFilter.class);

    private final boolean enabled;
    private final AccountRateLimiters limiters;
    private final Counter limited;

    RateLimitFilter(RateLimitProperties properties, MeterRegistry registry) {
        this.enabled = properties.enabled();
        this.limiters = new AccountRateLimiters(properties, System::nanoTime);
        this.limited = Counter.builder("dialer.api.rate_limited")
                .description("Requests refused with 429 because the account's request rate was exceeded")
                .register(registry);
        Gauge.builder("dialer.api.rate_limit.accounts", limiters, AccountRateLimiters::size)
                .description("Accounts with a live rate limiter (idle ones are evicted)")
                .register(registry);
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        Account account = exchange.getAttribute(Account.ATTRIBUTE);
        if (!enabled || account == null) {
            return chain.filter(exchange);
        }
        AccountRateLimiters.Verdict verdict = limiters.acquire(account.id());
        if (verdict.allowed()) {
            return chain.filter(exchange);
        }
        limited.increment();
        log.debug("account {} over its request rate; retry after {}", account.id(), verdict.retryAfter());
        return Mono.error(Problems.rateLimited(verdict.retryAfter()));
    }
}
