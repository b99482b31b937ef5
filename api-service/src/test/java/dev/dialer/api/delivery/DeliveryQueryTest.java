package dev.dialer.api.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.FieldProblem;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class DeliveryQueryTest {

    @Test
    void defaultsToTheNewestFiftyWithoutFilters() {
        DeliveryQuery query = DeliveryQuery.of(null, null, " ", "");

        assertThat(query.limit()).isEqualTo(50);
        assertThat(query.eventId()).isNull();
        assertThat(query.outcome()).isNull();
        assertThat(query.after()).isNull();
    }

    @Test
    void aCursorRoundTripsToTheSamePosition() {
        DeliveryQuery.Position position = new DeliveryQuery.Position(Instant.parse("2026-01-01T00:00:00.123456Z"),
                "attempt:with:colons");

        DeliveryQuery query = DeliveryQuery.of("evt", "Delivered", "10", position.cursor());

        assertThat(query.after()).isEqualTo(position);
        assertThat(query.outcome()).isEqualTo("delivered");
        assertThat(query.limit()).isEqualTo(10);
    }

    @Test
    void namesEachBadParameter() {
        assertThatThrownBy(() -> DeliveryQuery.of(null, "lost", "500", "%%%"))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .extracting(FieldProblem::field).containsExactly("outcome", "limit", "cursor"));
    }

    @Test
    void refusesAFilterGivenEmptyRatherThanListingEveryDelivery() {
        // ?event_id= from a client whose id was empty: read as no filter, other events' deliveries would answer it.
        assertThatThrownBy(() -> DeliveryQuery.of("", " ", null, null))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .extracting(FieldProblem::field).containsExactly("event_id", "outcome"));
    }

    @Test
    void refusesAHandMadeCursorNoRowCouldHave() {
        for (String plain : List.of("-1.0:a", "253402300800.0:a", "31556889864403199.999999999:a",
                "1700000000.0:a\u0000b")) {
            String cursor = Base64.getUrlEncoder().encodeToString(plain.getBytes(StandardCharsets.UTF_8));

            assertThatThrownBy(() -> DeliveryQuery.of(null, null, null, cursor)).as(plain)
                    .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                            .extracting(FieldProblem::field).containsExactly("cursor"));
        }
    }

    @Test
    void aPageLongerThanTheLimitHasANextCursorAtItsLastRow() {
        List<DeliveryRecord> rows = List.of(row("a", 3), row("b", 2), row("c", 1));

        DeliveryLog.DeliveryPage page = DeliveryLog.DeliveryPage.of(rows, 2);

        assertThat(page.rows()).extracting(DeliveryRecord::attemptId).containsExactly("a", "b");
        assertThat(DeliveryQuery.Position.of(page.nextCursor()).attemptId()).isEqualTo("b");
        assertThat(DeliveryLog.DeliveryPage.of(rows, 3).nextCursor()).isNull();
    }

    private static DeliveryRecord row(String id, int second) {
        return new DeliveryRecord(id, "acme", "w1", "e1", "call.final", "webhook", "r1", 1, "delivered", 200, null,
                null, 5, null, false, false, Instant.ofEpochSecond(second));
    }
}
