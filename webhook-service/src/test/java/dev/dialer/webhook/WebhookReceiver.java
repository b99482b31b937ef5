package dev.dialer.webhook;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.resources.LoopResources;

/**
 * A real HTTP endpoint for webhook deliveries: records every request and answers 200 unless told to answer a path
 * differently for its next requests.
 */
public final class WebhookReceiver implements AutoCloseable {

    /** One request as it arrived. Header names are lower case; the query is raw (as sent), or null. */
    public record Received(String method, String path, String rawQuery, Map<String, List<String>> headers,
                           byte[] body) {

        public String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final Map<String, Deque<Answer>> scripted = new ConcurrentHashMap<>();
    private final DisposableServer server;
    /** Its own event loop: a service context that closes disposes Reactor Netty's global one. */
    private final LoopResources loops = LoopResources.create("webhook-receiver", 1, true);

    private WebhookReceiver() {
        server = HttpServer.create()
                .runOn(loops)
                .host("127.0.0.1")
                .port(0)
                .handle(this::receive)
                .bindNow();
    }

    public static WebhookReceiver start() {
        return new WebhookReceiver();
    }

    public String url(String path) {
        return "http://127.0.0.1:" + server.port() + "/" + path;
    }

    /** The next requests to {@code path} get these statuses, one each, in order; later ones get 200. */
    public void answer(String path, Integer... statuses) {
        Arrays.stream(statuses).forEach(status -> answer(path, status, new byte[0]));
    }

    /** The next request to {@code path} gets this status and body (after those scripted before it). */
    public void answer(String path, int status, byte[] body) {
        scripted.computeIfAbsent("/" + path, ignored -> new ArrayDeque<>()).add(new Answer(status, body));
    }

    public List<Received> at(String path) {
        return received.stream().filter(request -> request.path().equals("/" + path)).toList();
    }

    public List<Received> all() {
        return List.copyOf(received);
    }

    private Mono<Void> receive(HttpServerRequest request, HttpServerResponse response) {
        return request.receive().aggregate().asByteArray()
                .defaultIfEmpty(new byte[0])
                .flatMap(body -> {
                    int query = request.uri().indexOf('?');
                    received.add(new Received(request.method().name(),
                            request.path().isEmpty() ? "/" : "/" + request.path(),
                            query < 0 ? null : request.uri().substring(query + 1), headers(request), body));
                    Answer answer = nextAnswer(request);
                    return response.status(answer.status()).sendByteArray(Mono.just(answer.body())).then();
                });
    }

    private record Answer(int status, byte[] body) {
    }

    private Answer nextAnswer(HttpServerRequest request) {
        Deque<Answer> answers = scripted.get("/" + request.path());
        synchronized (this) {
            Answer next = answers == null ? null : answers.pollFirst();
            return next == null ? new Answer(200, new byte[0]) : next;
        }
    }

    private static Map<String, List<String>> headers(HttpServerRequest request) {
        return request.requestHeaders().entries().stream().collect(Collectors.groupingBy(
                entry -> entry.getKey().toLowerCase(Locale.ROOT),
                Collectors.mapping(Map.Entry::getValue, Collectors.toList())));
    }

    @Override
    public void close() {
        server.disposeNow();
        // No quiet period: nothing is sent to a closed receiver, and the default two seconds of one, per receiver,
        // added up to most of a test class's time.
        loops.disposeLater(Duration.ZERO, Duration.ofSeconds(5)).block(Duration.ofSeconds(10));
    }
}
