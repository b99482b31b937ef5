package dev.dialer.api;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.PathContainer;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Counts {@code dialer.api.requests} by endpoint and outcome from the status the response is committed with, so
 * that refusals made anywhere (authentication, parsing, validation, an unacknowledged produce) are counted alike.
 * Runs before authentication so that 401s are counted too.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 10)
class RequestMetrics implements WebFilter {

    private final MeterRegistry registry;

    RequestMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        String endpoint = endpointOf(matched(exchange.getRequest().getPath().pathWithinApplication()));
        if (endpoint != null) {
            exchange.getResponse().beforeCommit(() -> {
                counter(endpoint, outcomeOf(exchange.getResponse().getStatusCode())).increment();
                return Mono.empty();
            });
        }
        return chain.filter(exchange);
    }

    private Counter counter(String endpoint, String outcome) {
        return Counter.builder("dialer.api.requests")
                .description("HTTP API requests by endpoint and outcome")
                .tag("endpoint", endpoint)
                .tag("outcome", outcome)
                .register(registry);
    }

    /**
     * The path as the handlers' mappings read it: each segment decoded and without matrix parameters, so that
     * {@code /%61pi/v2/outgoing/send}, which reaches the send handler, is counted as {@code send}.
     */
    static String matched(PathContainer path) {
        StringBuilder matched = new StringBuilder(path.value().length());
        for (PathContainer.Element element : path.elements()) {
            matched.append(element instanceof PathContainer.PathSegment segment
                    ? segment.valueToMatch() : element.value());
        }
        return matched.toString();
    }

    /** A bounded tag value: the feature, never the path (which can hold ids). */
    static String endpointOf(String path) {
        if (path.startsWith("/v1/Accounts/")) {
            return "voice-gateway-calls";
        }
        if (!path.startsWith("/api/")) {
            return null;
        }
        if (path.startsWith("/api/v2/outgoing/send")) {
            return "send";
        }
        if (path.startsWith("/api/v2/webhooks")) {
            return "webhooks";
        }
        if (path.startsWith("/api/v2/subscriptions")) {
            return "subscriptions";
        }
        return featureOf(path);
    }

    /** The calls, control, DNC, settings and preview features. */
    private static String featureOf(String path) {
        if (path.startsWith("/api/v2/outgoing/preview")) {
            return "preview";
        }
        if (path.startsWith("/api/v2/calls")) {
            return "calls";
        }
        if (path.startsWith("/api/v2/campaigns")) {
            return "campaigns";
        }
        if (path.startsWith("/api/v2/dnc")) {
            return "dnc";
        }
        return path.startsWith("/api/v2/account/settings") ? "account-settings" : "other";
    }

    static String outcomeOf(HttpStatusCode status) {
        int code = status == null ? 200 : status.value();
        if (code < 400) {
            return "accepted";
        }
        if (code == 503) {
            return "unavailable";
        }
        if (code == 429) {
            return "limited";
        }
        return code < 500 ? "rejected" : "failed";
    }
}
