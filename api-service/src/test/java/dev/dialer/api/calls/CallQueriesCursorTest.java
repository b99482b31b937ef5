package dev.dialer.api.calls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.FieldProblem;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class CallQueriesCursorTest {

    @Test
    void aCursorRoundTripsToTheSamePosition() {
        CallQueries.Cursor cursor = new CallQueries.Cursor(Instant.parse("2026-01-01T00:00:00.123456Z"),
                "id|with|bars");

        assertThat(CallQueries.Cursor.parse(cursor.encode())).isEqualTo(cursor);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0001-01-01T00:00:00Z", "1969-12-31T23:59:59.999999Z", "1600-06-30T12:00:00.5Z",
            "9999-12-31T23:59:59.999999Z"})
    void aCursorOfAnyTimeACommandMayCarryRoundTrips(String createdAt) {
        // A command's created_at is any RFC 3339 time; its call sorts among the others and may end a page.
        CallQueries.Cursor cursor = new CallQueries.Cursor(Instant.parse(createdAt), "it-1");

        assertThat(CallQueries.Cursor.parse(cursor.encode())).isEqualTo(cursor);
    }

    @ParameterizedTest
    @ValueSource(strings = {"-9223372036854775808|a", "9223372036854775807|a", "-62135596800000001|a",
            "253402300800000000|a",
            "1700000000000000|a\u0000b", "1700000000000000", "x|a"})
    void refusesAHandMadeCursorNoRowCouldHaveAsA400NamingIt(String plain) {
        String cursor = Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));

        assertThatThrownBy(() -> CallQueries.Cursor.parse(cursor)).isInstanceOfSatisfying(ApiProblem.class,
                problem -> assertThat(problem.errors()).extracting(FieldProblem::field).containsExactly("cursor"));
    }
}
