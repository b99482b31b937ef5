package dev.dialer.api.webhook;

import dev.dialer.api.RequestBodies;
import dev.dialer.api.account.Account;
import java.net.URI;
import org.springframework.http.ResponseEntity;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/** {@code /api/v2/webhooks}: create an endpoint (its secret is shown once) and read it back. */
@RestController
@RequestMapping("/api/v2/webhooks")
class WebhookController {

    /** A webhook is a URL and a label: anything larger is not one. */
    private static final int MAX_BODY_BYTES = 16 * 1024;

    private final Webhooks webhooks;

    WebhookController(Webhooks webhooks) {
        this.webhooks = webhooks;
    }

    @PostMapping
    Mono<ResponseEntity<WebhookResponses.Created>> create(@RequestAttribute(Account.ATTRIBUTE) Account account,
                                                          ServerHttpRequest request) {
        return RequestBodies.text(request, MAX_BODY_BYTES)
                .flatMap(body -> webhooks.create(account, body))
                .map(webhook -> ResponseEntity.created(URI.create("/api/v2/webhooks/" + webhook.id()))
                        .body(WebhookResponses.Created.of(webhook)));
    }

    @DeleteMapping("/{id}")
    Mono<ResponseEntity<Void>> delete(@RequestAttribute(Account.ATTRIBUTE) Account account, @PathVariable String id) {
        return webhooks.delete(account, id).thenReturn(ResponseEntity.noContent().build());
    }

    @GetMapping("/{id}")
    Mono<WebhookResponses.View> get(@RequestAttribute(Account.ATTRIBUTE) Account account, @PathVariable String id) {
        return webhooks.find(account, id).map(WebhookResponses.View::of);
    }
}
