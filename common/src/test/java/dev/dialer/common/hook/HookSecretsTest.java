package dev.dialer.common.hook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import org.junit.jupiter.api.Test;

class HookSecretsTest {

    private static final String KEY = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    @Test
    void derivesTheDocumentedHmacOfTheAccountId() {
        // Python: "whsec_" + b64encode(hmac.new(b64decode(key), b"hook-secret:acc-1", sha256).digest())
        assertThat(HookSecrets.derivedFrom(KEY).of("acc-1"))
                .isEqualTo("whsec_q9bVGyNm8yEjHGzJan2Z+PveiqVvcSSrU+sLkA3dWXU=");
        assertThat(HookSecrets.derivedFrom(KEY).of("acc-2"))
                .isEqualTo("whsec_+0XAwIIlBxTPANC7HQ+RaLbqzo2xW8G2JpuQOB+K2bA=");
    }

    @Test
    void eachAccountHasItsOwnSecretAndTheSameOneOnEveryInstance() {
        HookSecrets one = HookSecrets.derivedFrom(KEY);
        HookSecrets another = HookSecrets.derivedFrom(KEY);

        assertThat(one.of("acc-1")).isEqualTo(another.of("acc-1")).isNotEqualTo(one.of("acc-2"));
    }

    @Test
    void anotherKeyGivesEveryAccountAnotherSecret() {
        assertThat(HookSecrets.derivedFrom("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").of("acc-1"))
                .isNotEqualTo(HookSecrets.derivedFrom(KEY).of("acc-1"));
    }

    @Test
    void refusesAKeyThatIsNotAStandardWebhooksSecretOrTooShort() {
        assertThatIllegalArgumentException().isThrownBy(() -> HookSecrets.derivedFrom("plain-text"));
        assertThatIllegalArgumentException().isThrownBy(() -> HookSecrets.derivedFrom("whsec_not*base64"));
        assertThatIllegalArgumentException().isThrownBy(() -> HookSecrets.derivedFrom("whsec_AAAAAAAAAAAAAAAAAAAA"))
                .withMessageContaining("at least 16 bytes");
    }

    @Test
    void neverShowsTheKey() {
        assertThat(HookSecrets.derivedFrom(KEY)).hasToString("HookSecrets[key hidden]");
    }
}
