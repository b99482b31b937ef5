package dev.dialer.api.dnc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.FieldProblem;
import org.junit.jupiter.api.Test;

class DncImportTest {

    @Test
    void readsAJsonArrayOfNumbersAndObjectsInTheAccountsRegion() {
        DncImport.Parsed parsed = DncImport.parse("[\"9876543215\", {\"number\":\"+14155550123\",\"reason\":\"x\"}]",
                "IN");

        assertThat(parsed.rows()).containsExactly(new DncImport.Row("+919876543215", null),
                new DncImport.Row("+14155550123", "x"));
        assertThat(parsed.rejected()).isEmpty();
    }

    @Test
    void countsAReasonInCharacters() {
        String emoji = "\uD83D\uDE00".repeat(256);
        DncImport.Parsed parsed = DncImport.parse("[{\"number\":\"9876543215\",\"reason\":\"" + emoji + "\"}, "
                + "{\"number\":\"9876543216\",\"reason\":\"" + "x".repeat(257) + "\"}]", "IN");

        assertThat(parsed.rows()).containsExactly(new DncImport.Row("+919876543215", emoji));
        assertThat(parsed.rejected()).extracting(FieldProblem::field).containsExactly("rows[1].reason");
    }

    @Test
    void readsCsvWithHeaderQuotesAndBlankLinesAndReportsBadRowsByIndex() {
        DncImport.Parsed parsed = DncImport.parse("number,reason\r\n9876543215,\"said \"\"stop\"\"\"\n\n12\n", "IN");

        assertThat(parsed.rows()).containsExactly(new DncImport.Row("+919876543215", "said \"stop\""));
        assertThat(parsed.rejected()).extracting(FieldProblem::field).containsExactly("rows[1]");
    }

    @Test
    void aRowRefusedForSeveralMembersIsOneRowRefusedWithEachMemberNamed() {
        DncImport.Parsed parsed = DncImport.parse("[{\"Number\":\"9876500012\"}, \"9876500013\", "
                + "{\"number\":{},\"reason\":[]}]", "IN");

        assertThat(parsed.rows()).containsExactly(new DncImport.Row("+919876500013", null));
        assertThat(parsed.rejected()).extracting(FieldProblem::field)
                .containsExactlyInAnyOrder("rows[0].number", "rows[0].Number", "rows[2].number", "rows[2].reason");
        assertThat(parsed.refusedRows()).as("what the answer's rejected counts").isEqualTo(2);
    }

    @Test
    void rejectsARowWhoseNumberOrReasonIsAnObjectOrAnArrayNamingIt() {
        DncImport.Parsed parsed = DncImport.parse(
                "[{\"number\":{}}, {\"number\":\"9876543215\",\"reason\":[\"x\"]}, \"9876543216\"]", "IN");

        assertThat(parsed.rows()).containsExactly(new DncImport.Row("+919876543216", null));
        assertThat(parsed.rejected()).containsExactly(new FieldProblem("rows[0].number", "must be a string"),
                new FieldProblem("rows[1].reason", "must be a string"));
    }

    @Test
    void rejectsARowWithAMemberOtherThanNumberAndReasonNamingItRatherThanDroppingWhatItSaid() {
        // The reason misspelt: added, the number would have lost it without a word.
        DncImport.Parsed parsed = DncImport.parse(
                "[{\"number\":\"9876543215\",\"Reason\":\"complaint\"}, \"9876543216\"]", "IN");

        assertThat(parsed.rows()).containsExactly(new DncImport.Row("+919876543216", null));
        assertThat(parsed.rejected()).containsExactly(
                new FieldProblem("rows[0].Reason", "is not a field of a DNC row (known: number, reason)"));
    }

    @Test
    void rejectsARowWithoutANumberNamingTheNumber() {
        DncImport.Parsed parsed = DncImport.parse(
                "[{\"reason\":\"complaint\"}, {\"number\":null}, \"9876543216\"]", "IN");

        assertThat(parsed.rows()).containsExactly(new DncImport.Row("+919876543216", null));
        assertThat(parsed.rejected()).containsExactly(new FieldProblem("rows[0].number", "is required"),
                new FieldProblem("rows[1].number", "is required"));
    }

    @Test
    void rejectsARowWhoseReasonHoldsANulCharacter() {
        DncImport.Parsed parsed = DncImport.parse(
                "[{\"number\":\"9876543215\",\"reason\":\"a\\u0000\"}, \"9876543216\"]", "IN");

        assertThat(parsed.rows()).containsExactly(new DncImport.Row("+919876543216", null));
        assertThat(parsed.rejected()).containsExactly(
                new FieldProblem("rows[0].reason", "must not contain NUL characters (U+0000)"));
    }

    @Test
    void refusesARowGivingAMemberTwiceNamingItRatherThanListingTheLastNumber() {
        // Only 919876543211 was listed, and nothing said 919876543210 was not.
        assertThatThrownBy(() -> DncImport.parse(
                "[\"9876543215\", {\"number\":\"919876543210\",\"number\":\"919876543211\"}]", "IN"))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> {
                    assertThat(problem.getStatusCode().value()).isEqualTo(400);
                    assertThat(problem.errors()).containsExactly(
                            new FieldProblem("rows[1].number", "is given more than once"));
                });
        assertThatThrownBy(() -> DncImport.parse("[{\"number\":\"9876543215\",\"reason\":\"a\",\"reason\":\"b\"}]",
                "IN")).isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                .extracting(FieldProblem::field).containsExactly("rows[0].reason"));
    }

    @Test
    void keepsOneRowPerNumberWithTheLastReason() {
        DncImport.Parsed parsed = DncImport.parse("919876543215,a\n+919876543215,b", "IN");

        assertThat(parsed.rows()).containsExactly(new DncImport.Row("+919876543215", "b"));
    }

    @Test
    void refusesMoreRowsThanTheDocumentedLimit() {
        String body = "9876543215\n".repeat(DncImport.MAX_ROWS + 1);

        assertThatThrownBy(() -> DncImport.parse(body, "IN")).isInstanceOfSatisfying(ApiProblem.class,
                problem -> assertThat(problem.errors()).extracting(FieldProblem::field).containsExactly("rows"));
    }
}
