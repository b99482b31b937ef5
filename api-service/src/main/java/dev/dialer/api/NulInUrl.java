package dev.dialer.api;

import dev.dialer.api.problem.NulCharacters;
import dev.dialer.api.problem.Problems;
import java.nio.charset.StandardCharsets;
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
 *
 * <p>Likewise a path segment or query parameter whose percent-encoded bytes are not UTF-8 ({@code ?foreign_id=Caf%E9},
 * Latin-1): decoded, each such byte would be U+FFFD, a value nobody wrote, and a look-up by it would answer an empty
 * page as if the call did not exist. The bodies are held to the same rule ({@code RequestBodies}).
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
            if (element instanceof PathContainer.PathSegment segment && !utf8(segment.value())) {
                return Mono.error(Problems.notFound("Nothing in this API is named with bytes that are not UTF-8."));
            }
        }
        String rawQuery = exchange.getRequest().getURI().getRawQuery();
        if (rawQuery != null) {
            for (String pair : rawQuery.split("&")) {
                int equals = pair.indexOf('=');
                String name = equals < 0 ? pair : pair.substring(0, equals);
                if (!utf8(pair)) {
                    String field = decoded(name);
                    return Mono.error(Problems.validation(field != null ? field : "query",
                            "is percent-encoded bytes that are not UTF-8: encode the text as UTF-8 first"));
                }
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

    /** Whether {@code raw} (percent-encoded, as the request line has it) decodes to UTF-8 text. */
    private static boolean utf8(String raw) {
        return decoded(raw) != null;
    }

    /** {@code raw} percent-decoded as UTF-8; null when its bytes are not UTF-8 text. */
    private static String decoded(String raw) {
        try {
            return PercentDecoding.decode(raw, StandardCharsets.UTF_8);
        } catch (PercentDecoding.Undecodable e) {
            return null;
        }
    }
}
