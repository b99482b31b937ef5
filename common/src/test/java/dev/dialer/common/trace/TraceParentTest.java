package dev.dialer.common.trace;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TraceParentTest {

    private static final String FORMAT = "00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}";
    private static final String INCOMING = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    @Test
    void aValidTraceparentIsContinuedAsASpanOfItsTrace() {
        String child = TraceParent.childOf(INCOMING);

        assertThat(child).matches(FORMAT).startsWith("00-0af7651916cd43dd8448eb211c80319c-").endsWith("-01");
        assertThat(child.substring(36, 52)).as("a parent id of its own").isNotEqualTo("b7ad6b7169203331");
        assertThat(TraceParent.childOf("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"))
                .as("its flags kept: not sampled").endsWith("-00");
    }

    @Test
    void noTraceparentOrAnInvalidOneStartsATrace() {
        for (String invalid : new String[] {null, "", "garbage", INCOMING.toUpperCase(),
                "00-00000000000000000000000000000000-b7ad6b7169203331-01",
                "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
                "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}) {
            String started = TraceParent.childOf(invalid);

            assertThat(started).as(String.valueOf(invalid)).matches(FORMAT).endsWith("-01")
                    .doesNotContain("0af7651916cd43dd8448eb211c80319c");
        }
        assertThat(TraceParent.childOf(null)).isNotEqualTo(TraceParent.childOf(null));
    }

    @Test
    void onlyAValidTraceparentIsContinuedWithoutStartingOne() {
        assertThat(TraceParent.continued(INCOMING)).matches(FORMAT).startsWith("00-0af7651916cd43dd8448eb211c80319c-")
                .isNotEqualTo(INCOMING);
        assertThat(TraceParent.continued(null)).isNull();
        assertThat(TraceParent.continued("garbage")).isNull();
        assertThat(TraceParent.ifValid(INCOMING)).isEqualTo(INCOMING);
        assertThat(TraceParent.ifValid("00-00000000000000000000000000000000-b7ad6b7169203331-01")).isNull();
        assertThat(TraceParent.ifValid(null)).isNull();
    }
}
