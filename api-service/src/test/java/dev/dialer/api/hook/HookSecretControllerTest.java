package dev.dialer.api.hook;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.account.Account;
import dev.dialer.api.problem.ProblemAdvice;
import dev.dialer.common.hook.HookSecrets;
import dev.dialer.common.hook.PlainHttpPolicy;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The endpoint over HTTP, the caller's account put on the exchange as the API key filter does. */
class HookSecretControllerTest {

    private static final String KEY = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private static final String CALLER = "X-Test-Account";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void answersEachCallerTheSecretWebhookServiceSignsItsHooksWith() {
        WebTestClient client = client(KEY);

        String first = secret(client, "acc-1");
        String second = secret(client, "acc-2");

        assertThat(first).isEqualTo(HookSecrets.derivedFrom(KEY).of("acc-1"))
                .isEqualTo("whsec_q9bVGyNm8yEjHGzJan2Z+PveiqVvcSSrU+sLkA3dWXU=");
        assertThat(second).isEqualTo(HookSecrets.derivedFrom(KEY).of("acc-2")).isNotEqualTo(first);
    }

    @Test
    void answersANotFoundProblemWithoutAKey() {
        JsonNode problem = JSON.readTree(client(null).get().uri("/api/v2/account/hook-secret")
                .header(CALLER, "acc-1")
                .exchange()
                .expectStatus().isNotFound()
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody(String.class).returnResult().getResponseBody());

        assertThat(problem.get("type").asString()).isEqualTo("https://dialer.dev/problems/not-found");
        assertThat(problem.get("detail").asString()).contains("unsigned");
    }

    private static String secret(WebTestClient client, String account) {
        String body = client.get().uri("/api/v2/account/hook-secret")
                .header(CALLER, account)
                .exchange()
                .expectStatus().isOk()
                .expectBody(String.class).returnResult().getResponseBody();
        JsonNode answer = JSON.readTree(body);
        assertThat(answer.propertyNames()).containsExactly("secret");
        return answer.get("secret").asString();
    }

    private static WebTestClient client(String key) {
        return WebTestClient.bindToController(new HookSecretController(new HookProperties(key,
                PlainHttpPolicy.Mode.ALLOW_LISTED, List.of())))
                .controllerAdvice(new ProblemAdvice())
                .webFilter((exchange, chain) -> {
                    String id = exchange.getRequest().getHeaders().getFirst(CALLER);
                    exchange.getAttributes().put(Account.ATTRIBUTE, new Account(id, id, "IN"));
                    return chain.filter(exchange);
                })
                .build();
    }
}
