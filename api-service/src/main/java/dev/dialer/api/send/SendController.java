package dev.dialer.api.send;

import dev.dialer.api.RequestBodies;
import dev.dialer.api.account.Account;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * {@code POST /api/v2/outgoing/send}, the seed dialect. No {@code consumes}: the body is read as text whatever its
 * Content-Type ({@link RequestBodies}), and {@link SendRequestParser} decides from the body whether it is JSON or a
 * form.
 */
@RestController
class SendController {

    private final OutgoingCalls calls;
    private final int maxBodyBytes;

    SendController(OutgoingCalls calls, SendProperties properties) {
        this.calls = calls;
        this.maxBodyBytes = (int) properties.maxBodySize().toBytes();
    }

    @PostMapping(path = "/api/v2/outgoing/send", produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<SendResponse> send(@RequestAttribute(Account.ATTRIBUTE) Account account,
                            ServerHttpRequest request) {
        return RequestBodies.text(request, maxBodyBytes).flatMap(body -> calls.queue(account, body));
    }
}
