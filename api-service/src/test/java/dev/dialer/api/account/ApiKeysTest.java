package dev.dialer.api.account;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiKeysTest {

    @Test
    void hashesWithHexSha256() {
        assertThat(ApiKeys.hash("abc"))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    @Test
    void generatesPrefixedUrlSafeKeysOf32RandomBytes() {
        Set<String> keys = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            String key = ApiKeys.generate();
            assertThat(key).startsWith("dk_").matches("dk_[A-Za-z0-9_-]{43}");
            keys.add(key);
        }
        assertThat(keys).hasSize(100);
    }

    @Test
    void readsTheKeyOfABearerHeaderOnly() {
        assertThat(ApiKeyAuthentication.bearerKey("Bearer dk_abc")).isEqualTo("dk_abc");
        assertThat(ApiKeyAuthentication.bearerKey("bearer   dk_abc ")).isEqualTo("dk_abc");
        assertThat(ApiKeyAuthentication.bearerKey("Basic dk_abc")).isNull();
        // The Voice Gateway's v1 document sends the key alone.
        assertThat(ApiKeyAuthentication.bearerKey("dk_abc")).isEqualTo("dk_abc");
        assertThat(ApiKeyAuthentication.bearerKey(" ")).isNull();
        assertThat(ApiKeyAuthentication.bearerKey("Bearer ")).isNull();
        assertThat(ApiKeyAuthentication.bearerKey("Bearer")).isNull();
        assertThat(ApiKeyAuthentication.bearerKey(null)).isNull();
    }
}
