package dev.dialer.api.trace;

import dev.dialer.common.trace.TraceParent;
import java.util.Optional;
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
    public static final String HEADER = TraceParent.HEADER;

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String traceparent = TraceParent.childOf(exchange.getRequest().getHeaders().getFirst(HEADER));
        return chain.filter(exchange).contextWrite(context -> context.put(HEADER, traceparent));
    }

    /** The {@code traceparent} of the request being served, as its records carry it; empty outside a request. */
    public static Optional<String> of(ContextView context) {
        return context.getOrEmpty(HEADER).map(String.class::cast);
    }
}
