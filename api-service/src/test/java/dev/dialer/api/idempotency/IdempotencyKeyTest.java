package dev.dialer.api.idempotency;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.ids.TimeOrderedUuids;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class IdempotencyKeyTest {

    @Test
    void aClaimWhoseSaltIsASendIdGivesTheSendsCallIds() {
        UUID send = TimeOrderedUuids.send();
        IdempotencyKey key = new IdempotencyKey("k-1", send.toString());

        assertThat(key.send()).isEqualTo(send);
        assertThat(key.callId("acc", 0)).isEqualTo(TimeOrderedUuids.ofRecipient(send, 0).toString());
        assertThat(key.callId("acc", 999)).isEqualTo(TimeOrderedUuids.ofRecipient(send, 999).toString());
    }

    @Test
    void aClaimWithARandomSaltOrNoneKeepsItsNameBasedIds() {
        String random = UUID.randomUUID().toString();
        for (String salt : new String[] {random, null, "not a uuid"}) {
            IdempotencyKey key = new IdempotencyKey("k-2", salt);
            assertThat(key.send()).as(String.valueOf(salt)).isNull();
            assertThat(key.callId("acc", 3)).isEqualTo(RequestIds.of("acc", "k-2", salt, 3));
            assertThat(UUID.fromString(key.callId("acc", 3)).version()).isEqualTo(5);
        }
    }

    @Test
    void aTimeOrderedSaltThatIsNotASendIdIsNotReadAsOne() {
        // A version 7 UUID whose last 16 bits are not zero is a call's id, not a send's: never a claim's send id.
        UUID call = TimeOrderedUuids.ofRecipient(TimeOrderedUuids.send(), 7);
        assertThat(new IdempotencyKey("k-3", call.toString()).send()).isNull();
    }
}
