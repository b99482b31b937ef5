package dev.dialer.api.problem;

import java.net.URI;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.annotation.Order;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.codec.HttpMessageWriter;
import org.springframework.http.codec.ServerCodecConfigurer;
import org.springframework.stereotype.Component;
import org.springframework.web.ErrorResponse;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.reactive.result.view.ViewResolver;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebExceptionHandler;
import reactor.core.publisher.Mono;

/**
 * Renders errors that never reach a controller (a {@code WebFilter} refusing a request, a failure before handler
 * selection) as problem details, ahead of Boot's default error handler whose body is not RFC 9457. A failure that
 * passes (the database away, the API key's lookup finding no connection) is a 503 with {@code Retry-After}, as the
 * controllers answer it ({@link ProblemAdvice#passingFailure}).
 */
@Component
@Order(-2)
class ProblemWebExceptionHandler implements WebExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemWebExceptionHandler.class);

    private final ServerResponse.Context context;

    ProblemWebExceptionHandler(ServerCodecConfigurer codecs) {
        List<HttpMessageWriter<?>> writers = codecs.getWriters();
        this.context = new ServerResponse.Context() {
            @Override
            public List<HttpMessageWriter<?>> messageWriters() {
                return writers;
            }

            @Override
            public List<ViewResolver> viewResolvers() {
                return List.of();
            }
        };
    }

    @Override
    public Mono<Void> handle(ServerWebExchange exchange, Throwable failure) {
        if (exchange.getResponse().isCommitted()) {
            return Mono.error(failure);
        }
        ApiProblem passing = failure instanceof ErrorResponse ? null : ProblemAdvice.passingFailure(failure, exchange);
        Throwable ex = passing != null ? passing : failure;
        ProblemDetail problem = problemOf(exchange, ex);
        if (problem.getInstance() == null) {
            problem.setInstance(URI.create(exchange.getRequest().getPath().value()));
        }
        var headers = ex instanceof ErrorResponse error ? error.getHeaders() : null;
        return ServerResponse.status(problem.getStatus())
                .headers(h -> {
                    if (headers != null) {
                        h.addAll(headers);
                    }
                })
                .contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .bodyValue(problem)
                .flatMap(response -> response.writeTo(exchange, context));
    }

    private static ProblemDetail problemOf(ServerWebExchange exchange, Throwable ex) {
        if (ex instanceof ErrorResponse error) {
            return Problems.typed(error.getBody());
        }
        if (ex instanceof InvalidMediaTypeException unreadable) {
            return Problems.unsupportedMediaType(unreadable.getMessage()).getBody();
        }
        log.error("request {} {} failed", exchange.getRequest().getMethod(), LoggedPaths.of(exchange), ex);
        return Problems.internal();
    }
}
