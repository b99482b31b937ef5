package dev.dialer.api.send;

import dev.dialer.api.account.Account;
import dev.dialer.api.problem.ApiProblem;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import java.nio.charset.StandardCharsets;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpStatus;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/** {@code POST /api/v2/outgoing/send}, the seed dialect: whatever the content type, the body decides the format. */
@RestController
class SendController {

    private final CallQueue queue;
    private final MeterRegistry meters;

    SendController(CallQueue queue, MeterRegistry meters) {
        this.queue = queue;
        this.meters = meters;
    }

    /** Bodies above this are refused with 413 before they are parsed. */
    static final int MAX_BODY_BYTES = 1024 * 1024;

    @PostMapping(path = "/api/v2/outgoing/send")
    Mono<SendResponse> send(@RequestAttribute(Account.ATTRIBUTE) Account account, ServerWebExchange exchange) {
        return rawBody(exchange)
                .map(SendRequestParser::parse)
                .flatMap(request -> queue.enqueue(account, request))
                .doOnSuccess(ok -> count("accepted"))
                .doOnError(e -> count(e instanceof ApiProblem p && p.status().value() == 503 ? "unavailable"
                        : "rejected"));
    }

    // The raw bytes, whatever the content type: the seeds' clients send JSON labelled as a form.
    private static Mono<String> rawBody(ServerWebExchange exchange) {
        return DataBufferUtils.join(exchange.getRequest().getBody(), MAX_BODY_BYTES)
                .map(buffer -> {
                    try {
                        return buffer.toString(StandardCharsets.UTF_8);
                    } finally {
                        DataBufferUtils.release(buffer);
                    }
                })
                .defaultIfEmpty("")
                .onErrorMap(DataBufferLimitException.class, e -> new ResponseStatusException(
                        HttpStatus.PAYLOAD_TOO_LARGE, "the body is larger than " + MAX_BODY_BYTES + " bytes"));
    }

    private void count(String outcome) {
        meters.counter("dialer.api.requests", "endpoint", "send", "outcome", outcome).increment();
    }
}
