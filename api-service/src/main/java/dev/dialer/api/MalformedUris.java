package dev.dialer.api;

import dev.dialer.api.problem.Problems;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.reactor.netty.NettyRouteProvider;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;
import tools.jackson.databind.json.JsonMapper;

/**
 * Answers a request whose URI is not one ({@code ?campaign=%ZZ}: a {@code %} not followed by two hex digits, a space
 * or a {@code "} sent as it is) with a {@code 400} problem document, {@code …/problems/malformed-request}, saying
 * where it breaks. WebFlux cannot take such a request in at all (its request object is built from a {@link URI}), and
 * its server adapter answers a bare {@code 400} with no body before any filter or handler runs; this route is
 * matched ahead of the application's, on the server's own request. The URI is not echoed. Counted as
 * {@code dialer.api.requests.malformed}: {@code http.server.requests} never sees these requests.
 */
@Component
class MalformedUris implements NettyRouteProvider {

    private static final Logger log = LoggerFactory.getLogger(MalformedUris.class);

    private final JsonMapper json;
    private final Counter refused;

    MalformedUris(JsonMapper json, MeterRegistry registry) {
        this.json = json;
        this.refused = Counter.builder("dialer.api.requests.malformed")
                .description("Requests answered 400 because their URI could not be read as one")
                .register(registry);
    }

    @Override
    public HttpServerRoutes apply(HttpServerRoutes routes) {
        return routes.route(request -> malformation(request.uri()) != null, this::refuse);
    }

    /**
     * Why {@code uri} (as the request line has it) is not a URI, as WebFlux would read it after the scheme and host;
     * null when it is one.
     */
    static String malformation(String uri) {
        try {
            new URI(uri.startsWith("/") ? "http://localhost" + uri : uri);
            return null;
        } catch (URISyntaxException e) {
            return e.getReason() + (e.getIndex() >= 0 && uri.startsWith("/")
                    ? " at character " + (e.getIndex() - "http://localhost".length() + 1) + " of the URI" : "");
        }
    }

    private Publisher<Void> refuse(HttpServerRequest request, HttpServerResponse response) {
        String why = malformation(request.uri());
        refused.increment();
        log.debug("{} request refused: its URI is malformed ({})", request.method(), why);
        // The catalogue's problem, written here: the application's encoders never see this request.
        ProblemDetail malformed = Problems.malformed("The request's URI is malformed: " + why
                + ". Write a % itself as %25, and a space as %20.").getBody();
        Map<String, Object> problem = new LinkedHashMap<>();
        problem.put("type", String.valueOf(malformed.getType()));
        problem.put("title", malformed.getTitle());
        problem.put("status", malformed.getStatus());
        problem.put("detail", malformed.getDetail());
        byte[] body = json.writeValueAsBytes(problem);
        return response.status(malformed.getStatus())
                .header(HttpHeaderNames.CONTENT_TYPE, MediaType.APPLICATION_PROBLEM_JSON_VALUE)
                .header(HttpHeaderNames.CONTENT_LENGTH, String.valueOf(body.length))
                // The request's body, if any, is not read: the connection is not reused for another request.
                .header(HttpHeaderNames.CONNECTION, "close")
                .sendByteArray(Mono.just(body));
    }
}
