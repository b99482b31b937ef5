package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TagSealTest {

    private static final TagSeal SEAL = TagSeal.of("key-1");

    @Test
    void aSealVerifiesForTheIdsItSealedAndNoOthers() {
        String seal = SEAL.seal("r-1", 2, 1, "primary", "+4930555000");

        assertThat(seal).hasSize(22).matches("[A-Za-z0-9_-]+");
        assertThat(SEAL.verifies(seal, "r-1", 2, 1, "primary", "+4930555000")).isTrue();
        assertThat(SEAL.verifies(seal, "r-2", 2, 1, "primary", "+4930555000")).as("request").isFalse();
        assertThat(SEAL.verifies(seal, "r-1", 3, 1, "primary", "+4930555000")).as("attempt").isFalse();
        assertThat(SEAL.verifies(seal, "r-1", 2, 2, "primary", "+4930555000")).as("dial").isFalse();
        assertThat(SEAL.verifies(seal, "r-1", 2, 1, "backup", "+4930555000")).as("carrier").isFalse();
        assertThat(SEAL.verifies(seal, "r-1", 2, 1, "primary", "+4930555001")).as("caller ID").isFalse();
        assertThat(TagSeal.of("key-2").verifies(seal, "r-1", 2, 1, "primary", "+4930555000")).as("key").isFalse();
    }

    @Test
    void idsThatRunTogetherAlikeSealApart() {
        assertThat(SEAL.seal("r-1", 2, 1, "ab", "c")).isNotEqualTo(SEAL.seal("r-1", 2, 1, "a", "bc"));
    }

    @Test
    void aTagMissingAnIdOrCarryingNoSealOrGarbageHasNoValidSeal() {
        String seal = SEAL.seal("r-1", 2, 1, "primary", "+4930555000");

        assertThat(SEAL.verifies(null, "r-1", 2, 1, "primary", "+4930555000")).isFalse();
        assertThat(SEAL.verifies("not base64!", "r-1", 2, 1, "primary", "+4930555000")).isFalse();
        assertThat(SEAL.verifies(seal.substring(1), "r-1", 2, 1, "primary", "+4930555000")).isFalse();
        assertThat(SEAL.verifies(seal, "r-1", 2, null, "primary", "+4930555000")).isFalse();
        assertThat(SEAL.verifies(seal, "r-1", 2, 1, null, "+4930555000")).isFalse();
        assertThat(SEAL.verifies(seal, "r-1", 2, 1, "primary", null)).isFalse();
    }

    @Test
    void whileAKeyIsRotatedTheNewOneSealsAndBothVerify() {
        TagSeal rotating = TagSeal.of(" key-2 , key-1 ,");

        String old = SEAL.seal("r-1", 1, 1, "primary", "+4930555000");
        String fresh = rotating.seal("r-1", 1, 1, "primary", "+4930555000");

        assertThat(fresh).isEqualTo(TagSeal.of("key-2").seal("r-1", 1, 1, "primary", "+4930555000"));
        assertThat(rotating.verifies(old, "r-1", 1, 1, "primary", "+4930555000")).isTrue();
        assertThat(rotating.verifies(fresh, "r-1", 1, 1, "primary", "+4930555000")).isTrue();
        assertThat(SEAL.verifies(fresh, "r-1", 1, 1, "primary", "+4930555000")).isFalse();
    }

    @Test
    void withoutKeysNothingIsSealedAndAnyTagIsTaken() {
        for (TagSeal none : new TagSeal[] {TagSeal.of(null), TagSeal.of(" , "), TagSeal.NONE}) {
            assertThat(none.enabled()).isFalse();
            assertThat(none.seal("r-1", 1, 1, "primary", "+4930555000")).isNull();
            assertThat(none.verifies(null, null, null, null, null, null)).isTrue();
        }
        assertThat(SEAL.enabled()).isTrue();
    }
}
