package dev.dialer.api.send;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;
import org.junit.jupiter.api.Test;

class RequestIdsTest {

    @Test
    void nameBasedIdsMatchRfc4122Version5() {
        // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org") == 886313e1-3b8a-5372-9b90-0c9aee199e5d
        UUID dns = UUID.fromString("6ba7b810-9dad-11d1-80b4-00c04fd430c8");

        assertThat(RequestIds.nameBased(dns, "python.org"))
                .isEqualTo(UUID.fromString("886313e1-3b8a-5372-9b90-0c9aee199e5d"));
    }

    @Test
    void theSameKeyAndIndexGiveTheSameIdAndAnythingElseAnother() {
        String id = RequestIds.of("acme", "key-1", 0);

        assertThat(RequestIds.of("acme", "key-1", 0)).isEqualTo(id);
        assertThat(RequestIds.of("acme", "key-1", 1)).isNotEqualTo(id);
        assertThat(RequestIds.of("other", "key-1", 0)).isNotEqualTo(id);
        assertThat(RequestIds.of("acme", "key-2", 0)).isNotEqualTo(id);
        assertThat(UUID.fromString(id).version()).isEqualTo(5);
    }
}
