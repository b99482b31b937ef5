package dev.dialer.simulator;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import io.netty.handler.codec.http.HttpHeaderNames;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A real HTTP status-hook receiver on a free port. {@code /hooks/ok} answers 200, {@code /hooks/refuse} answers 500;
 * both record what arrived.
 */
final class CallbackReceiver implements AutoCloseable {

    /** One received callback. */
    record Callback(String path, String method, String signature, String contentType, String body, JsonNode json) {

        String callSid() {
            return json.get("call_sid").stringValue();
        }

        String status() {
            return json.get("call_status").stringValue();
        }

        int sipStatus() {
            return json.get("sip_status").intValue();
        }
    }

    private static final JsonMapper MAPPER = JsonMapper.builder().build();

    private final List<Callback> received = new CopyOnWriteArrayList<>();
    private final DisposableServer server = HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .route(routes -> routes.route(request -> request.uri().startsWith("/hooks/"), (request, response) ->
                    request.receive().aggregate().asString(StandardCharsets.UTF_8).defaultIfEmpty("")
                            .doOnNext(body -> received.add(new Callback(request.uri(), request.method().name(),
                                    request.requestHeaders().get("Jambonz-Signature"),
                                    request.requestHeaders().get(HttpHeaderNames.CONTENT_TYPE), body,
                                    MAPPER.readTree(body))))
                            .flatMap(body -> response.status(request.uri().endsWith("/refuse") ? 500 : 200)
                                    .send().then())))
            .bindNow(Duration.ofSeconds(10));

    String url(String path) {
        return "http://127.0.0.1:" + server.port() + path;
    }

    List<Callback> forCall(String callSid) {
        return received.stream().filter(callback -> callSid.equals(callback.callSid())).toList();
    }

    List<String> statusesOf(String callSid) {
        return forCall(callSid).stream().map(Callback::status).toList();
    }

    Map<String, Object> asMap(JsonNode node) {
        return MAPPER.convertValue(node, Map.class);
    }

    @Override
    public void close() {
        server.disposeNow(Duration.ofSeconds(5));
    }
}
