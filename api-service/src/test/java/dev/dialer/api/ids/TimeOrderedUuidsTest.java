package dev.dialer.api.ids;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TimeOrderedUuidsTest {

    @Test
    void isAVersion7UuidCarryingItsMillisecond() {
        long millis = 1_795_000_000_123L;
        UUID id = TimeOrderedUuids.v7(millis);

        assertThat(id.version()).isEqualTo(7);
        assertThat(id.variant()).isEqualTo(2);
        assertThat(id.getMostSignificantBits() >>> 16).isEqualTo(millis);
        assertThat(id.toString()).startsWith("01a1ee56-5e7b-7");
    }

    @Test
    void idsOfALaterMillisecondSortAfterAsTextAndAllDiffer() {
        List<String> ids = new ArrayList<>();
        Set<String> distinct = new HashSet<>();
        for (long millis = 1_795_000_000_000L; millis < 1_795_000_000_100L; millis++) {
            for (int n = 0; n < 1_000; n++) {
                String id = TimeOrderedUuids.v7(millis).toString();
                ids.add(id);
                distinct.add(id);
            }
        }

        assertThat(distinct).hasSize(100_000);
        for (int i = 1_000; i < ids.size(); i += 1_000) {
            String lastOfPrevious = ids.subList(i - 1_000, i).stream().max(String::compareTo).orElseThrow();
            String firstOfThis = ids.subList(i, i + 1_000).stream().min(String::compareTo).orElseThrow();
            assertThat(firstOfThis).isGreaterThan(lastOfPrevious);
        }
    }

    @Test
    void aSendsCallIdsCarryTheSendAndTheRecipientsIndexAndSortInRecipientOrder() {
        UUID send = TimeOrderedUuids.send();
        assertThat(TimeOrderedUuids.isTimeOrdered(send)).isTrue();
        assertThat(TimeOrderedUuids.indexOf(send)).isZero();
        List<String> ids = new ArrayList<>();
        for (int index : new int[] {0, 1, 2, 999, 1_000, 65_535}) {
            UUID call = TimeOrderedUuids.ofRecipient(send, index);
            assertThat(TimeOrderedUuids.isTimeOrdered(call)).isTrue();
            assertThat(TimeOrderedUuids.sendOf(call)).isEqualTo(send);
            assertThat(TimeOrderedUuids.indexOf(call)).isEqualTo(index);
            ids.add(call.toString());
        }
        assertThat(ids).isSorted().doesNotHaveDuplicates();
        assertThat(ids.get(3)).endsWith("03e7");
        assertThatThrownBy(() -> TimeOrderedUuids.ofRecipient(send, 65_536))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TimeOrderedUuids.ofRecipient(send, -1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sendIdsDifferWithinOneMillisecond() {
        Set<UUID> sends = new HashSet<>();
        for (int n = 0; n < 100_000; n++) {
            sends.add(TimeOrderedUuids.send());
        }
        assertThat(sends).hasSize(100_000);
    }

    @Test
    void takesTheClocksTime() {
        long before = System.currentTimeMillis();
        long carried = TimeOrderedUuids.v7().getMostSignificantBits() >>> 16;
        assertThat(carried).isBetween(before, System.currentTimeMillis());
    }
}
