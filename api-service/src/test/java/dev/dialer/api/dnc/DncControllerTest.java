package dev.dialer.api.dnc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.FieldProblem;
import java.util.Collections;
import org.junit.jupiter.api.Test;

class DncControllerTest {

    @Test
    void readsALargeImportOffTheThreadThatReceivedItAndASmallOneOnIt() {
        String large = "[" + String.join(",", Collections.nCopies(DncImport.MAX_ROWS, "\"9876543215\"")) + "]";
        String receiving = Thread.currentThread().getName();

        assertThat(DncController.parsed(large, "IN").map(parsed -> Thread.currentThread().getName()).block())
                .startsWith("parallel-");
        assertThat(DncController.parsed("[\"9876543215\"]", "IN").map(parsed -> Thread.currentThread().getName())
                .block()).isEqualTo(receiving);
    }

    @Test
    void refusesAnEntryGivingItsReasonTwiceNamingIt() {
        assertThat(DncController.reason("{\"reason\":\" asked \"}")).isEqualTo("asked");
        assertThatThrownBy(() -> DncController.reason("{\"reason\":\"asked\",\"reason\":\"complained\"}"))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .containsExactly(new FieldProblem("reason", "is given more than once")));
    }

    @Test
    void aMisspeltReasonIsNamedAndTheEntrysReadOnlyMembersAreTaken() {
        assertThatThrownBy(() -> DncController.reason("{\"reason\":\"x\",\"reasn\":\"y\"}"))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .extracting(FieldProblem::field).containsExactly("reasn"));
        assertThat(DncController.reason("{\"number\":\"+919876543215\",\"reason\":\"asked\",\"added_at\":null}"))
                .isEqualTo("asked");
    }
}
