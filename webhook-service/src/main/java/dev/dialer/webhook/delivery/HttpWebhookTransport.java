package dev.dialer.webhook.delivery;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.resolver.AddressResolverGroup;
import io.netty.util.ReferenceCountUtil;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.reactivestreams.Subscription;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.NettyPipeline;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * Webhook tries over Reactor Netty. Each try is bounded: connect timeout, then a total timeout over sending and the
 * answer's status and headers, which are the outcome of the try (interim answers, 102 or 103, skipped: the final
 * one decides). Then at most {@code responseBodyLimit} bytes of the
 * body are read, for at most {@code responseBodyTimeout}: what arrived by then is kept, and the connection is dropped
 * rather than drained. A receiver that answers 200 at once and ends its body late has still answered 200: counted as
 * a timeout, its event would be sent again and its endpoint counted as failing. Redirects are not followed. Host
 * names are resolved through the {@link GuardedAddressResolverGroup}, so the address connected to is the address
 * checked.
 */
final class HttpWebhookTransport implements WebhookTransport, AutoCloseable {

    /** The longest Retry-After taken from an answer: a longer one is read as this. */
    static final Duration LONGEST_RETRY_AFTER = Duration.ofDays(1);
    private static final String USER_AGENT = "dialer-webhook/1";
    /**
     * Connections to one host at most (Reactor Netty keeps a pool per remote address); tries past them wait for one, up
     * to the total timeout. {@link IsolationProperties#maxConcurrentPerHost} stays within it, so that the isolation's
     * caps, which refuse at once, are what limits a host.
     */
    static final int MAX_CONNECTIONS = 512;

    private final ConnectionProvider connections;
    private final WebClient client;
    private final Duration totalTimeout;
    private final int responseBodyLimit;
    private final Duration responseBodyTimeout;

    HttpWebhookTransport(Duration connectTimeout, Duration totalTimeout) {
        this(connectTimeout, totalTimeout, 20 * 1024, null);
    }

    HttpWebhookTransport(Duration connectTimeout, Duration totalTimeout, int responseBodyLimit,
                         AddressResolverGroup<?> resolver) {
        this(connectTimeout, totalTimeout, responseBodyLimit, Duration.ofSeconds(1), resolver);
    }

    /** @param resolver how host names are resolved, or null for Reactor Netty's default */
    HttpWebhookTransport(Duration connectTimeout, Duration totalTimeout, int responseBodyLimit,
                         Duration responseBodyTimeout, AddressResolverGroup<?> resolver) {
        this.totalTimeout = totalTimeout;
        this.responseBodyLimit = responseBodyLimit;
        this.responseBodyTimeout = responseBodyTimeout;
        this.connections = ConnectionProvider.builder("webhook-delivery")
                .maxConnections(MAX_CONNECTIONS)
                .pendingAcquireTimeout(totalTimeout)
                .maxIdleTime(Duration.ofSeconds(30))
                // Idle connections closed on a timer, not only when the next try to their host looks; and the pool of
                // a host no longer called dropped: hosts come from requests (notify_url, action_hook), one pool each.
                .evictInBackground(Duration.ofSeconds(30))
                .disposeInactivePoolsInBackground(Duration.ofMinutes(1), Duration.ofMinutes(5))
                .build();
        HttpClient http = HttpClient.create(connections)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, Math.toIntExact(connectTimeout.toMillis()))
                // A redirect could send a signed event anywhere, an internal address included: it counts as a failure.
                .followRedirect(false)
                .doOnChannelInit((observer, channel, remote) -> channel.pipeline()
                        .addAfter(NettyPipeline.HttpCodec, "dialer.interim-answers", new InterimAnswers()));
        if (resolver != null) {
            http = http.resolver(resolver);
        }
        this.client = WebClient.builder().clientConnector(new ReactorClientHttpConnector(http)).build();
    }

    @Override
    public Mono<AttemptResult> send(String method, String url, Map<String, String> headers, byte[] body) {
        return Mono.defer(() -> {
            long started = System.nanoTime();
            AtomicReference<Duration> answeredAfter = new AtomicReference<>();
            Mono<Answer> answer = Mono.fromCallable(() -> target(url))
                    .flatMap(target -> exchange(HttpMethod.valueOf(method), target, headers, body,
                            () -> answeredAfter.compareAndSet(null, since(started))));
            // The total timeout runs until the status arrives; the body's start has its own limit after that.
            Mono<Answer> unanswered = Mono.delay(totalTimeout)
                    .flatMap(tick -> answeredAfter.get() == null
                            ? Mono.error(new TimeoutException("no answer within " + totalTimeout.toMillis() + " ms"))
                            : Mono.never());
            return Mono.firstWithSignal(answer, unanswered)
                    .map(answered -> AttemptResult.answered(answered.status(), answeredAfter.get(), answered.body(),
                            answered.retryAfter()))
                    .onErrorResume(error -> Mono.just(failure(error, since(started))));
        });
    }

    /** @param answered told when the answer's status and headers have arrived, before its body is read */
    private Mono<Answer> exchange(HttpMethod method, URI target, Map<String, String> headers, byte[] body,
                                  Runnable answered) {
        WebClient.RequestBodySpec request = client.method(method)
                .uri(target)
                .headers(http -> {
                    headers.forEach(http::set);
                    http.set("User-Agent", USER_AGENT);
                });
        WebClient.RequestHeadersSpec<?> withBody = body.length == 0 ? request
                : request.contentType(MediaType.APPLICATION_JSON).bodyValue(body);
        return withBody.exchangeToMono(response -> {
            answered.run();
            return readStart(response.bodyToFlux(DataBuffer.class))
                    .map(start -> new Answer(response.statusCode().value(), start,
                            retryAfter(response.headers().asHttpHeaders().getFirst("Retry-After"))));
        });
    }

    /**
     * The first {@code responseBodyLimit} bytes of the body as UTF-8 text, as much of them as arrived within
     * {@code responseBodyTimeout}; reading stops there, and with no limit nothing is read. A NUL it holds is made
     * storable by {@link dev.dialer.common.contract.DeliveryAttempt}, which carries it to the delivery log. A body cut
     * off (the connection closed before its announced end) is read as none: the status decides the try, so a 2xx is
     * not sent again and a 410 still disables the webhook.
     */
    private Mono<String> readStart(Flux<DataBuffer> body) {
        if (responseBodyLimit == 0) {
            return dropped(body);
        }
        return DataBufferUtils.join(DataBufferUtils.takeUntilByteCount(body, responseBodyLimit)
                        .take(responseBodyTimeout))
                .map(joined -> {
                    try {
                        return joined.toString(StandardCharsets.UTF_8);
                    } finally {
                        DataBufferUtils.release(joined);
                    }
                })
                .defaultIfEmpty("")
                .onErrorReturn("");
    }

    /**
     * Nothing of the body, which is subscribed to and cancelled at once, nothing requested: a body left alone would be
     * drained to its end once the answer is handled.
     */
    private static Mono<String> dropped(Flux<DataBuffer> body) {
        return Mono.create(sink -> body.subscribe(new BaseSubscriber<DataBuffer>() {
            @Override
            protected void hookOnSubscribe(Subscription subscription) {
                subscription.cancel();
                sink.success("");
            }
        }));
    }

    /**
     * Retry-After in seconds or as an HTTP date, at most {@link #LONGEST_RETRY_AFTER} (a delivery's retries are
     * spread over far less, and a wait of centuries would not even fit in a count of nanoseconds); null when absent or
     * unreadable.
     */
    static Duration retryAfter(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        Duration wait;
        try {
            wait = Duration.ofSeconds(Math.max(0, Long.parseLong(value.trim())));
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(value.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                wait = Duration.between(Instant.now(), at);
            } catch (DateTimeParseException notADate) {
                return null;
            }
        }
        return wait.isNegative() ? Duration.ZERO : wait.compareTo(LONGEST_RETRY_AFTER) > 0 ? LONGEST_RETRY_AFTER : wait;
    }

    private record Answer(int status, String body, Duration retryAfter) {
    }

    /**
     * The URL as a {@link URI}; one that is none is refused without repeating it: its path or query may hold a
     * credential (an incoming-webhook token), and the refusal is logged and stored.
     */
    private static URI target(String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not a URL (" + e.getReason() + " at index " + e.getIndex() + ")");
        }
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
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof TargetGuard.ForbiddenAddressException) {
                return AttemptResult.failed(Reason.FORBIDDEN_TARGET, cause.getMessage(), latency);
            }
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

    /**
     * Drops interim answers (1xx but 101) before Reactor Netty reads them: it takes any answer but 100 for the final
     * one, so a receiver's 103 Early Hints or 102 Processing would make the try a failure while the receiver goes on to
     * handle the event and answer 200, and the event would be sent again. One per connection: it follows where an
     * interim answer ends (its empty last content).
     */
    static final class InterimAnswers extends ChannelInboundHandlerAdapter {

        private boolean skipping;

        @Override
        public void channelRead(ChannelHandlerContext context, Object message) {
            if (message instanceof HttpResponse response) {
                int code = response.status().code();
                skipping = code >= 100 && code < 200 && code != 101;
            }
            if (!skipping) {
                context.fireChannelRead(message);
                return;
            }
            if (message instanceof LastHttpContent) {
                skipping = false;
            }
            ReferenceCountUtil.release(message);
        }
    }
}
