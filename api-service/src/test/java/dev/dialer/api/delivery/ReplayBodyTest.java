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
    private static final Instant LATEST = Instant.parse("2026-06-01T00:05:00Z");

    @Test
    void readsEventIdsWithoutRepeats() {
        ReplayBody body = ReplayBody.parse("{\"event_ids\":[\"e1\",\"e2\",\"e1\"]}", 10, WEEK, LATEST);

        assertThat(body.eventIds()).containsExactly("e1", "e2");
        assertThat(body.from()).isNull();
    }

    @Test
    void readsARangeWithAnyOffset() {
        ReplayBody body = ReplayBody.parse("{\"from\":\"2026-01-01T05:30:00+05:30\",\"to\":\"2026-01-02T00:00:00Z\"}",
                10, WEEK, LATEST);

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
    void aMemberGivenTwiceIsA400NamingItRatherThanKeepingTheLast() {
        assertThat(field("{\"from\":\"2026-01-01T00:00:00Z\",\"to\":\"2026-01-02T00:00:00Z\","
                + "\"from\":\"2026-01-01T12:00:00Z\"}", 10)).isEqualTo("from");
    }

    @Test
    void refusesARangeOutsideWhatTheEventStoreCanHold() {
        assertThat(field("{\"from\":\"-5000-01-01T00:00:00Z\",\"to\":\"-4999-12-31T00:00:00Z\"}", 10))
                .isEqualTo("from");
        assertThat(field("{\"from\":\"+300000-01-01T00:00:00Z\",\"to\":\"+300000-01-02T00:00:00Z\"}", 10))
                .isEqualTo("from");
        assertThat(field("{\"from\":\"1969-12-31T23:00:00Z\",\"to\":\"1970-01-01T01:00:00Z\"}", 10))
                .isEqualTo("from");
        assertThat(field("{\"from\":\"2026-05-31T12:00:00Z\",\"to\":\"+300000-01-01T00:00:00Z\"}", 10))
                .isEqualTo("to");
        assertThat(field("{\"from\":\"2026-05-31T12:00:00Z\",\"to\":\"2026-06-01T00:05:01Z\"}", 10))
                .isEqualTo("to");
    }

    @Test
    void acceptsARangeFromTheEpochAndOneEndingAtTheLatestInstant() {
        String fromTheEpoch = "{\"from\":\"1970-01-01T00:00:00Z\",\"to\":\"1970-01-02T00:00:00Z\"}";
        String toTheLatest = "{\"from\":\"2026-05-31T00:00:00Z\",\"to\":\"2026-06-01T00:05:00Z\"}";

        assertThat(ReplayBody.parse(fromTheEpoch, 10, WEEK, LATEST).from()).isEqualTo(Instant.EPOCH);
        assertThat(ReplayBody.parse(toTheLatest, 10, WEEK, LATEST).to()).isEqualTo(LATEST);
    }

    @Test
    void aBodyThatIsNotAnObjectIsMalformed() {
        assertThatThrownBy(() -> ReplayBody.parse("not json", 10, WEEK, LATEST))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.getBody().getType())
                        .hasToString("https://dialer.dev/problems/malformed-request"));
    }

    private static String field(String body, int maxEvents) {
        try {
            ReplayBody.parse(body, maxEvents, WEEK, LATEST);
        } catch (ApiProblem problem) {
            return problem.errors().stream().map(FieldProblem::field).findFirst().orElseThrow();
        }
        throw new AssertionError("accepted " + body);
    }
}
