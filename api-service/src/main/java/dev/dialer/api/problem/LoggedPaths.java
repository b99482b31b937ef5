package dev.dialer.api.problem;

import java.util.regex.Pattern;
import org.springframework.web.reactive.HandlerMapping;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.util.pattern.PathPattern;

/**
 * A request's path as a log line may show it: the route it matched ({@code /api/v2/dnc/{number}}), else the path with
 * every run of six or more digits left out. A DNC entry's path is a callee's phone number, which is personal data,
 * and a failed request's log line must not carry it.
 */
final class LoggedPaths {

    private static final Pattern DIGITS = Pattern.compile("\\+?\\d{6,}");

    private LoggedPaths() {
    }

    static String of(ServerWebExchange exchange) {
        Object pattern = exchange.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE);
        if (pattern instanceof PathPattern matched) {
            return matched.getPatternString();
        }
        return DIGITS.matcher(exchange.getRequest().getPath().value()).replaceAll("…");
    }
}
