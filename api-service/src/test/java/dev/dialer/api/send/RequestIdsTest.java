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

    @Test
    void aForeignIdAndNumberGiveOneIdPerAccountAndNoKeyedOne() {
        String id = RequestIds.ofForeignId("acme", "crm-1", "+919876543215");

        assertThat(RequestIds.ofForeignId("acme", "crm-1", "+919876543215")).isEqualTo(id);
        assertThat(RequestIds.ofForeignId("acme", "crm-1", "+919876543216")).isNotEqualTo(id);
        assertThat(RequestIds.ofForeignId("acme", "crm-2", "+919876543215")).isNotEqualTo(id);
        assertThat(RequestIds.ofForeignId("other", "crm-1", "+919876543215")).isNotEqualTo(id);
        assertThat(UUID.fromString(id).version()).isEqualTo(5);
    }
}
