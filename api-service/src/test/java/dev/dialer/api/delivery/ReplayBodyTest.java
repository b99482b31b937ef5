package dev.dialer.api.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.FieldProblem;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ReplayBodyTest {

    private static final Duration WEEK = Duration.ofDays(7);

    @Test
    void readsEventIdsWithoutRepeats() {
        ReplayBody body = ReplayBody.parse("{\"event_ids\":[\"e1\",\"e2\",\"e1\"]}", 10, WEEK);

        assertThat(body.eventIds()).containsExactly("e1", "e2");
        assertThat(body.from()).isNull();
    }

    @Test
    void readsARangeWithAnyOffset() {
        ReplayBody body = ReplayBody.parse("{\"from\":\"2026-01-01T05:30:00+05:30\",\"to\":\"2026-01-02T00:00:00Z\"}",
                10, WEEK);

        assertThat(body.from()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
        assertThat(body.to()).isEqualTo(Instant.parse("2026-01-02T00:00:00Z"));
        assertThat(body.eventIds()).isEmpty();
    }

    @Test
    void capsTheRangeAndTheNumberOfEvents() {
        assertThat(field("{\"from\":\"2026-01-01T00:00:00Z\",\"to\":\"2026-01-08T00:00:01Z\"}", 10)).isEqualTo("to");
        assertThat(field("{\"event_ids\":[\"a\",\"b\",\"c\"]}", 2)).isEqualTo("event_ids");
    }

    @Test
    void namesTheFieldOfEachMistake() {
        assertThat(field("{\"from\":\"2026-01-02T00:00:00Z\",\"to\":\"2026-01-01T00:00:00Z\"}", 10)).isEqualTo("to");
        assertThat(field("{\"to\":\"2026-01-01T00:00:00Z\"}", 10)).isEqualTo("from");
        assertThat(field("{\"from\":1,\"to\":\"2026-01-01T00:00:00Z\"}", 10)).isEqualTo("from");
        assertThat(field("{\"event_ids\":\"e1\"}", 10)).isEqualTo("event_ids");
        assertThat(field("{\"event_ids\":[\"e1\"],\"to\":\"2026-01-01T00:00:00Z\"}", 10)).isEqualTo("event_ids");
        assertThat(field("{}", 10)).isEqualTo("event_ids");
        assertThat(field("{\"events\":[\"e1\"]}", 10)).isEqualTo("events");
    }

    @Test
    void aBodyThatIsNotAnObjectIsMalformed() {
        assertThatThrownBy(() -> ReplayBody.parse("not json", 10, WEEK))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.getBody().getType())
                        .hasToString("https://dialer.dev/problems/malformed-request"));
    }

    private static String field(String body, int maxEvents) {
        try {
            ReplayBody.parse(body, maxEvents, WEEK);
        } catch (ApiProblem problem) {
            return problem.errors().stream().map(FieldProblem::field).findFirst().orElseThrow();
        }
        throw new AssertionError("accepted " + body);
    }
}
