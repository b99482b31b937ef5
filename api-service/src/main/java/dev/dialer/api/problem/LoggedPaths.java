package dev.dialer.api.problem;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;
import org.springframework.web.reactive.HandlerMapping;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.util.UriUtils;
import org.springframework.web.util.pattern.PathPattern;

/**
 * A request's path as a log line may show it: the route it matched ({@code /api/v2/dnc/{number}}), else the path,
 * decoded, with every run of six or more digits left out, however they are spaced (the separators a phone number may
 * be written with, {@code " ()./-"}, as the API reads numbers). A DNC entry's path is a callee's phone number, which
 * is personal data, and a failed request's log line must not carry it: a request refused before its route is matched
 * (its API key could not be looked up) is logged by its path.
 */
final class LoggedPaths {

    private static final Pattern DIGITS = Pattern.compile("\\+?\\d(?:[ ().\\-/]*\\d){5,}");
    private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");

    private LoggedPaths() {
    }

    static String of(ServerWebExchange exchange) {
        Object pattern = exchange.getAttribute(HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE);
        if (pattern instanceof PathPattern matched) {
            return matched.getPatternString();
        }
        String path = exchange.getRequest().getPath().value();
        String decoded;
        try {
            decoded = UriUtils.decode(path, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            decoded = path;
        }
        // Decoded, a path may hold line breaks: none reaches the log.
        return CONTROL.matcher(DIGITS.matcher(decoded).replaceAll("…")).replaceAll("?");
    }
}
