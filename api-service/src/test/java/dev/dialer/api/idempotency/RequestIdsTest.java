package dev.dialer.api.idempotency;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;
import org.junit.jupiter.api.Test;

class RequestIdsTest {

    private static final String SALT = "0b5e6c1e-7d3a-4f8e-9b51-2f6a4c3e8d17";

    @Test
    void theSameKeySaltAndIndexGiveTheSameIdAndAnythingElseAnother() {
        String id = RequestIds.of("acme", "key-1", SALT, 0);

        assertThat(RequestIds.of("acme", "key-1", SALT, 0)).isEqualTo(id);
        assertThat(RequestIds.of("acme", "key-1", SALT, 1)).isNotEqualTo(id);
        assertThat(RequestIds.of("other", "key-1", SALT, 0)).isNotEqualTo(id);
        assertThat(RequestIds.of("acme", "key-2", SALT, 0)).isNotEqualTo(id);
        assertThat(UUID.fromString(id).version()).isEqualTo(5);
    }

    @Test
    void aKeyClaimedAnewAfterItExpiredGetsOtherIds() {
        assertThat(RequestIds.of("acme", "key-1", UUID.randomUUID().toString(), 0))
                .isNotEqualTo(RequestIds.of("acme", "key-1", SALT, 0))
                .isNotEqualTo(RequestIds.of("acme", "key-1", null, 0));
    }

    @Test
    void aKeyClaimedBeforeSaltsKeepsTheIdsItWasGiven() {
        // As written down when such ids were given (RFC 4122 version 5 of "acme\nkey-1\n2" in the dialer's
        // namespace, by an implementation of its own): a change of namespace or derivation would change them.
        assertThat(RequestIds.of("acme", "key-1", null, 2)).isEqualTo("b338cdff-a83d-58e3-9c37-9f013c63b4a7");
    }

    @Test
    void saltedAndForeignIdIdsAreTheOnesEveryVersionDerives() {
        // A repeat served by another instance or version must reproduce them, or the dispatcher, which keeps the first
        // command per id, would dial the repeat as another call. Written down from Python's uuid.uuid5 over the same
        // namespace and names ("acme\nkey-1\n0\n<salt>", "acme\ncrm-1\n+919876543215"), not from this code.
        assertThat(RequestIds.of("acme", "key-1", SALT, 0)).isEqualTo("11aae747-e1f9-5603-8619-64d0b2635d27");
        assertThat(RequestIds.ofForeignId("acme", "crm-1", "+919876543215"))
                .isEqualTo("6b748b09-e90b-5b63-8a4b-bbb1e9552287");
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
