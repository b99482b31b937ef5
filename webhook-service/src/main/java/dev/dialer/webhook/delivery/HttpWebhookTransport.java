package dev.dialer.webhook.delivery;

import io.netty.channel.ChannelOption;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * Webhook attempts over Reactor Netty. Each attempt is bounded: connect timeout, then a total timeout over sending,
 * the answer and draining its body, which is discarded as it arrives (never held in memory). Redirects are not
 * followed.
 */
final class HttpWebhookTransport implements WebhookTransport, AutoCloseable {

    private static final String USER_AGENT = "dialer-webhook/1";
    private static final int MAX_CONNECTIONS = 512;

    private final ConnectionProvider connections;
    private final WebClient client;
    private final Duration totalTimeout;

    HttpWebhookTransport(Duration connectTimeout, Duration totalTimeout) {
        this.totalTimeout = totalTimeout;
        this.connections = ConnectionProvider.builder("webhook-delivery")
                .maxConnections(MAX_CONNECTIONS)
                .pendingAcquireTimeout(totalTimeout)
                .maxIdleTime(Duration.ofSeconds(30))
                .build();
        HttpClient http = HttpClient.create(connections)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, Math.toIntExact(connectTimeout.toMillis()))
                // A redirect could send a signed event anywhere, an internal address included: it counts as a failure.
                .followRedirect(false);
        this.client = WebClient.builder().clientConnector(new ReactorClientHttpConnector(http)).build();
    }

    @Override
    public Mono<AttemptResult> send(String method, String url, Map<String, String> headers, byte[] body) {
        return Mono.defer(() -> {
            long started = System.nanoTime();
            return Mono.fromCallable(() -> target(url))
                    .flatMap(target -> exchange(HttpMethod.valueOf(method), target, headers, body))
                    .timeout(totalTimeout)
                    .map(status -> AttemptResult.answered(status, since(started)))
                    .onErrorResume(error -> Mono.just(failure(error, since(started))));
        });
    }

    private Mono<Integer> exchange(HttpMethod method, URI target, Map<String, String> headers, byte[] body) {
        WebClient.RequestBodySpec request = client.method(method)
                .uri(target)
                .headers(http -> {
                    headers.forEach(http::set);
                    http.set("User-Agent", USER_AGENT);
                });
        WebClient.RequestHeadersSpec<?> withBody = body.length == 0 ? request
                : request.contentType(MediaType.APPLICATION_JSON).bodyValue(body);
        return withBody.exchangeToMono(response -> response.releaseBody().thenReturn(response.statusCode().value()));
    }

    private static URI target(String url) {
        URI uri = URI.create(url);
        if (!"http".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())
                || uri.getHost() == null) {
            throw new IllegalArgumentException("not an absolute http(s) URL");
        }
        return uri;
    }

    private AttemptResult failure(Throwable error, Duration latency) {
        if (error instanceof IllegalArgumentException) {
            return AttemptResult.failed(Reason.INVALID_TARGET, "invalid URL: " + error.getMessage(), latency);
        }
        if (isTimeout(error)) {
            return AttemptResult.failed(Reason.TIMEOUT, "timeout: " + describe(error), latency);
        }
        return AttemptResult.failed(Reason.CONNECTION, describe(error), latency);
    }

    private static boolean isTimeout(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof TimeoutException || cause instanceof io.netty.channel.ConnectTimeoutException
                    || cause instanceof io.netty.handler.timeout.TimeoutException) {
                return true;
            }
        }
        return false;
    }

    private static String describe(Throwable error) {
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    private static Duration since(long startedNanos) {
        return Duration.ofNanos(System.nanoTime() - startedNanos);
    }

    @Override
    public void close() {
        connections.dispose();
    }
}
