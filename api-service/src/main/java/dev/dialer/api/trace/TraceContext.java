package dev.dialer.api.trace;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * The W3C trace context (<a href="https://www.w3.org/TR/trace-context/">Trace Context</a>) of each request, carried
 * into the Kafka records the request produces as their {@value #HEADER} header, so that a call can be followed from
 * the client's request through the dialer's services. A request's valid {@code traceparent} gives the trace id and
 * flags, and this service's records are a span of their own within it (a new parent id); a request without one, or
 * with one that is not valid, starts a trace (sampled).
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class TraceContext implements WebFilter {

    /** The header, on HTTP requests and on Kafka records alike. */
    public static final String HEADER = "traceparent";
    private static final Pattern VALID = Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})");
    private static final String NO_TRACE = "0".repeat(32);
    private static final String NO_PARENT = "0".repeat(16);
    private static final SecureRandom RANDOM = new SecureRandom();

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String traceparent = childOf(exchange.getRequest().getHeaders().getFirst(HEADER));
        return chain.filter(exchange).contextWrite(context -> context.put(HEADER, traceparent));
    }

    /** The {@code traceparent} of the request being served, as its records carry it; empty outside a request. */
    public static Optional<String> of(ContextView context) {
        return context.getOrEmpty(HEADER).map(String.class::cast);
    }

    /** A span of this service within {@code incoming}'s trace, or the first span of a new trace. */
    static String childOf(String incoming) {
        if (incoming != null) {
            var match = VALID.matcher(incoming.strip());
            if (match.matches() && !match.group(1).equals(NO_TRACE) && !match.group(2).equals(NO_PARENT)) {
                return "00-" + match.group(1) + "-" + randomHex(8) + "-" + match.group(3);
            }
        }
        return "00-" + randomHex(16) + "-" + randomHex(8) + "-01";
    }

    private static String randomHex(int bytes) {
        byte[] random = new byte[bytes];
        String hex;
        do {
            RANDOM.nextBytes(random);
            hex = HexFormat.of().formatHex(random);
        } while (hex.chars().allMatch(c -> c == '0'));
        return hex;
    }
}
