package dev.dialer.api.hook;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.dialer.api.account.Account;
import dev.dialer.api.openapi.ApiDocs;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.hook.HookSecrets;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * {@code GET /api/v2/account/hook-secret}: the caller's own account's secret for its per-request hooks, the one
 * webhook-service signs them with. Derived from {@code dialer.api.hooks.signing-key} ({@link HookSecrets}), so it is
 * never stored and every instance answers the same.
 */
@RestController
@Tag(name = "webhooks")
class HookSecretController {

    private static final Logger log = LoggerFactory.getLogger(HookSecretController.class);

    /** Null without a key: hooks go unsigned, and there is no secret to show. */
    private final HookSecrets secrets;

    HookSecretController(HookProperties properties) {
        boolean configured = properties.signingKey() != null && !properties.signingKey().isBlank();
        if (!configured) {
            log.warn("dialer.api.hooks.signing-key is not set: GET /api/v2/account/hook-secret answers 404; set it to "
                    + "webhook-service's dialer.webhook.delivery.hook-signing-key");
        }
        // A malformed or short key fails start-up rather than showing secrets nothing signs with.
        this.secrets = configured ? HookSecrets.derivedFrom(properties.signingKey()) : null;
    }

    @GetMapping(path = "/api/v2/account/hook-secret", produces = MediaType.APPLICATION_JSON_VALUE)
    @Operation(operationId = "getHookSecret", summary = "Read the account's hook secret",
            description = "The `whsec_…` secret that signs every delivery to this account's per-request hooks, "
                    + "the Standard Webhooks way: the `notifyUrl` (or `call_status_hook`), `actionHook` and "
                    + "`amd.actionHook` of a Voice Gateway call (`POST /v1/Accounts/{accountSid}/Calls`); a hook at "
                    + "the URL of a subscribed webhook gets the event once, as that webhook, signed with its secret. "
                    + "A send (`POST /api/v2/outgoing/send`) names no hook: its events go to webhooks, each signed "
                    + "with its own secret. Each account has its own hook secret; another account's never verifies "
                    + "them. It changes only when the operator changes the signing key.")
    @ApiResponse(responseCode = "200", description = "The account's hook secret")
    @ApiResponse(responseCode = "404", ref = ApiDocs.NOT_FOUND)
    Mono<HookSecret> get(@Parameter(hidden = true) @RequestAttribute(Account.ATTRIBUTE) Account account) {
        if (secrets == null) {
            return Mono.error(Problems.notFound("Hooks are sent unsigned on this installation: there is no hook "
                    + "secret."));
        }
        return Mono.just(new HookSecret(secrets.of(account.id())));
    }

    /** The answer: the account's secret. */
    @Schema(name = "HookSecret", description = "The secret that signs the account's per-request hooks")
    record HookSecret(@JsonProperty("secret") @Schema(example = "whsec_q9bVGyNm8yEjHGzJan2Z+PveiqVvcSSrU+sLkA3dWXU=")
                      String secret) {
    }
}
