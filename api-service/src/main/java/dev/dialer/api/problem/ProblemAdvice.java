package dev.dialer.api.problem;

import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTimeoutException;
import io.r2dbc.spi.R2dbcTransientResourceException;
import java.net.ConnectException;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.dao.ConcurrencyFailureException;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.reactive.result.method.annotation.ResponseEntityExceptionHandler;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Renders every error raised while handling a request as {@code application/problem+json}: our own
 * {@link ApiProblem}s and the framework's (405, 406, 415, unreadable input…), typed from the {@link Problems}
 * catalogue. Bad input is always a 4xx; a request the database failed to end a conflict with a concurrent one, or
 * could not serve at all (unreachable, no connection free in time), is a 503; only a failure of our own is a 500.
 */
@RestControllerAdvice
public class ProblemAdvice extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemAdvice.class);
    /** The conflicting request holds its rows for milliseconds: a second is plenty. */
    private static final Duration CONFLICT_RETRY_AFTER = Duration.ofSeconds(1);
    /** Deadlock, serialization failure, and a lock not granted within the statement's {@code lock_timeout}. */
    private static final Set<String> CONFLICT_STATES = Set.of("40P01", "40001", "55P03");
    /** Long enough for a restarted or failed-over PostgreSQL, short enough for a client's patience. */
    private static final Duration DATABASE_RETRY_AFTER = Duration.ofSeconds(5);
    /** A server shutting down or starting (57P01–03), and a statement stopped at its {@code statement_timeout}. */
    private static final Set<String> UNAVAILABLE_STATES = Set.of("57P01", "57P02", "57P03", "57014");

    /** A body above the codec's in-memory limit ({@code spring.http.codecs.max-in-memory-size}). */
    @ExceptionHandler(DataBufferLimitException.class)
    Mono<ResponseEntity<Object>> tooLarge(DataBufferLimitException ex, ServerWebExchange exchange) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.CONTENT_TOO_LARGE, ex.getMessage());
        return handleExceptionInternal(ex, problem, new HttpHeaders(), HttpStatus.CONTENT_TOO_LARGE, exchange);
    }

    /**
     * A Content-Type the framework could not parse ({@code json}, {@code charset=utf-9}). The endpoints that read a
     * body do not ask the framework (they read it as UTF-8), so this is only a safety net: bad input is never a 500.
     */
    @ExceptionHandler(InvalidMediaTypeException.class)
    Mono<ResponseEntity<Object>> unreadableContentType(InvalidMediaTypeException ex, ServerWebExchange exchange) {
        ApiProblem problem = Problems.unsupportedMediaType(ex.getMessage());
        return handleExceptionInternal(problem, problem.getBody(), new HttpHeaders(),
                HttpStatus.UNSUPPORTED_MEDIA_TYPE, exchange);
    }

    @ExceptionHandler(Exception.class)
    Mono<ResponseEntity<Object>> unexpected(Exception ex, ServerWebExchange exchange) {
        ApiProblem passing = passingFailure(ex, exchange);
        if (passing != null) {
            return handleExceptionInternal(passing, passing.getBody(), passing.getHeaders(),
                    HttpStatus.SERVICE_UNAVAILABLE, exchange);
        }
        log.error("request {} {} failed", exchange.getRequest().getMethod(), LoggedPaths.of(exchange), ex);
        return handleExceptionInternal(ex, Problems.internal(), new HttpHeaders(), HttpStatus.INTERNAL_SERVER_ERROR,
                exchange);
    }

    /**
     * The 503 with {@code Retry-After} for a failure that passes, logged; null for any other. PostgreSQL broke a
     * deadlock or a serialization conflict with a concurrent request by failing this one (the input was fine and the
     * same request succeeds when sent again), or could not be reached, or no connection came free in time: the request
     * is not at fault and may well succeed shortly, so a 503, as load balancers and clients expect, never a 500.
     * Also for failures outside the controllers (the API key's lookup, in a filter).
     */
    static ApiProblem passingFailure(Throwable ex, ServerWebExchange exchange) {
        if (lostToAConcurrentRequest(ex)) {
            log.warn("request {} {} answered 503: it conflicted with a concurrent one in the database ({})",
                    exchange.getRequest().getMethod(), LoggedPaths.of(exchange), ex.toString());
            return Problems.unavailable("The request conflicted with a concurrent one and was not completed. "
                    + "Retry it.", CONFLICT_RETRY_AFTER, ex);
        }
        if (databaseUnavailable(ex)) {
            log.warn("request {} {} answered 503: the database is unavailable ({})",
                    exchange.getRequest().getMethod(), LoggedPaths.of(exchange), ex.toString());
            return Problems.unavailable("The database did not answer, so the request may not have taken "
                    + "effect. Retry it, with the same Idempotency-Key if it had one.", DATABASE_RETRY_AFTER, ex);
        }
        return null;
    }

    /**
     * A connection that failed or could not be had (refused, broken, the pool's acquire time-out), or a server that is
     * shutting down or out of resources, as the driver raises it or as Spring translates it; or a read bounded by a
     * time-out of ours (a campaign's count past its 30 s) that the database did not answer within it. The driver's
     * SQLState decides where it gives one: the driver raises many a statement's own error (a RAISE, an index row too
     * large) as a resource exception, and those are no outage.
     */
    static boolean databaseUnavailable(Throwable error) {
        boolean resourceFailure = false;
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof R2dbcException r2dbc && r2dbc.getSqlState() != null) {
                return unavailableState(r2dbc.getSqlState());
            }
            if (cause instanceof R2dbcTimeoutException || cause instanceof R2dbcNonTransientResourceException
                    || cause instanceof R2dbcTransientResourceException
                    || cause instanceof DataAccessResourceFailureException
                    || cause instanceof ConnectException || cause instanceof TimeoutException) {
                resourceFailure = true;
            }
        }
        return resourceFailure;
    }

    /**
     * Connection exceptions (08), insufficient resources (53), a server shutting down or starting (57P01–03), and a
     * statement its {@code statement_timeout} stopped (57014: a campaign's count past its bound).
     */
    private static boolean unavailableState(String sqlState) {
        return sqlState.startsWith("08") || sqlState.startsWith("53") || UNAVAILABLE_STATES.contains(sqlState);
    }

    /**
     * A deadlock ({@code 40P01}) or serialization failure ({@code 40001}), whichever way it arrives: the driver raises
     * a deadlock as a transient exception Spring leaves uncategorized, so the SQLState decides.
     */
    static boolean lostToAConcurrentRequest(Throwable error) {
        for (Throwable cause = error; cause != null; cause = cause.getCause()) {
            if (cause instanceof ConcurrencyFailureException
                    || cause instanceof R2dbcException r2dbc && r2dbc.getSqlState() != null
                    && CONFLICT_STATES.contains(r2dbc.getSqlState())) {
                return true;
            }
        }
        return false;
    }

    @Override
    protected Mono<ResponseEntity<Object>> handleExceptionInternal(Exception ex, Object body, HttpHeaders headers,
                                                                   HttpStatusCode status,
                                                                   ServerWebExchange exchange) {
        // The framework's own errors (405, 406, 415…) arrive without a body: their problem is on the exception.
        Object problemBody = body == null && ex instanceof ErrorResponse error ? error.getBody() : body;
        if (problemBody instanceof ProblemDetail problem) {
            Problems.typed(problem);
            if (problem.getInstance() == null) {
                problem.setInstance(URI.create(exchange.getRequest().getPath().value()));
            }
        }
        return super.handleExceptionInternal(ex, problemBody, headers, status, exchange);
    }

    @Override
    protected Mono<ResponseEntity<Object>> createResponseEntity(Object body, HttpHeaders headers,
                                                                HttpStatusCode status, ServerWebExchange exchange) {
        // The problem media type is set explicitly so that a client asking for application/json gets it too.
        return Mono.just(ResponseEntity.status(status).headers(headers)
                .contentType(MediaType.APPLICATION_PROBLEM_JSON).body(body));
    }
}
