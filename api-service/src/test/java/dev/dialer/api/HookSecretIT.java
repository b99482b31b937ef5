package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.hook.HookSecrets;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Each account reads its own hook secret with its own API key: the one webhook-service signs its hooks with. */
class HookSecretIT extends RunningApiService {

    private static final String PATH = "/api/v2/account/hook-secret";

    @Test
    void eachAccountReadsTheSecretItsOwnHooksAreSignedWith() throws Exception {
        String first = "it-hooks-" + UUID.randomUUID().toString().substring(0, 8);
        String second = "it-hooks-" + UUID.randomUUID().toString().substring(0, 8);
        HookSecrets derived = HookSecrets.derivedFrom(HOOK_SIGNING_KEY);

        HttpResponse<String> firstAnswer = get(PATH, TestAccounts.ensure(first));
        HttpResponse<String> secondAnswer = get(PATH, TestAccounts.ensure(second));

        assertThat(firstAnswer.statusCode()).as(firstAnswer.body()).isEqualTo(200);
        assertThat(json(firstAnswer).get("secret").asString()).isEqualTo(derived.of(first));
        assertThat(secondAnswer.statusCode()).as(secondAnswer.body()).isEqualTo(200);
        assertThat(json(secondAnswer).get("secret").asString()).isEqualTo(derived.of(second))
                .isNotEqualTo(derived.of(first));
    }

    @Test
    void refusesACallerWithoutAKey() throws Exception {
        HttpResponse<String> answer = get(PATH, null);

        assertThat(answer.statusCode()).isEqualTo(401);
        assertThat(answer.body()).doesNotContain("whsec_");
    }
}
