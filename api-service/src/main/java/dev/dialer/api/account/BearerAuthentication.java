package dev.dialer.api.account;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.ProblemWriter;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/** Every customer path ({@code /api/**}) needs {@code Authorization: Bearer <key>}; operational paths stay open. */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 10)
class BearerAuthentication implements WebFilter {

    private static final String PREFIX = "Bearer ";

    private final Accounts accounts;

    BearerAuthentication(Accounts accounts) {
        this.accounts = accounts;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        if (!exchange.getRequest().getPath().value().startsWith("/api/")) {
            return chain.filter(exchange);
        }
        String header = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
        if (header == null || !header.startsWith(PREFIX) || header.length() == PREFIX.length()) {
            return ProblemWriter.write(exchange.getResponse(),
                    ApiProblem.unauthorized("an 'Authorization: Bearer <api key>' header is required"));
        }
        return accounts.authenticate(header.substring(PREFIX.length()).strip())
                .map(account -> {
                    exchange.getAttributes().put(Account.ATTRIBUTE, account);
                    return true;
                })
                .switchIfEmpty(Mono.just(false))
                .flatMap(known -> known ? chain.filter(exchange)
                        : ProblemWriter.write(exchange.getResponse(), ApiProblem.unauthorized("the API key is not valid")));
    }
}
