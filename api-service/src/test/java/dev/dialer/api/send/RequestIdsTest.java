package dev.dialer.api.send;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;
import org.junit.jupiter.api.Test;

class RequestIdsTest {

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
