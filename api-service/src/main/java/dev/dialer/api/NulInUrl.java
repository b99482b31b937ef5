package dev.dialer.api;

import dev.dialer.api.problem.NulCharacters;
import dev.dialer.api.problem.Problems;
import java.util.List;
import java.util.Map;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.server.PathContainer;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Refuses a request whose decoded path or query holds a NUL character ({@code %00}) before any endpoint looks the
 * value up: PostgreSQL cannot compare text with a NUL in it and fails the query ({@link NulCharacters}). A path
 * segment with one names nothing this API stores, since every write refuses NUL: a 404, as for any unknown id. A
 * query parameter with one is a 400 naming the parameter. Runs after authentication, so a request without a valid
 * key is still a 401.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 25)
class NulInUrl implements WebFilter {

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        for (PathContainer.Element element : exchange.getRequest().getPath().pathWithinApplication().elements()) {
            if (element instanceof PathContainer.PathSegment segment && NulCharacters.in(segment.valueToMatch())) {
                return Mono.error(Problems.notFound("Nothing in this API is named with a NUL character (U+0000)."));
            }
        }
        for (Map.Entry<String, List<String>> parameter : exchange.getRequest().getQueryParams().entrySet()) {
            String name = parameter.getKey();
            if (NulCharacters.in(name) || parameter.getValue().stream().anyMatch(NulCharacters::in)) {
                return Mono.error(Problems.validation(name, NulCharacters.MESSAGE));
            }
        }
        return chain.filter(exchange);
    }
}
