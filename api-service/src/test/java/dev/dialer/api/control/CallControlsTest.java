package dev.dialer.api.control;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.Problems;
import io.r2dbc.spi.R2dbcTransientResourceException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;

/** What a campaign cancel that committed, and then could not be published, answers. */
class CallControlsTest {

    @Test
    void aCancelKeptAfterAFailureOtherThanKafkasSaysItIsKept() {
        // The campaign's lock waited for too long (lock_timeout) in the cancel's second transaction.
        Throwable answered = CallControls.keptCancel(
                new R2dbcTransientResourceException("canceling statement due to lock timeout", "55P03"));

        assertThat(answered).isInstanceOfSatisfying(ApiProblem.class, problem -> {
            assertThat(problem.getStatusCode().value()).isEqualTo(503);
            assertThat(problem.getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("5");
            assertThat(problem.getBody().getDetail()).contains("The campaign is canceled all the same")
                    .doesNotContain("conflicted");
        });
    }

    @Test
    void kafkasOwnRefusalIsAnsweredAsItIs() {
        ApiProblem refused = Problems.unavailable("Kafka did not acknowledge.", Duration.ofSeconds(1), null);

        assertThat(CallControls.keptCancel(refused)).isSameAs(refused);
    }
}
