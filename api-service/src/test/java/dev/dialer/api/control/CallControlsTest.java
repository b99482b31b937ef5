package dev.dialer.api.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.dialer.api.kafka.RefusingPublisher;
import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.r2dbc.spi.R2dbcTransientResourceException;
import java.time.Duration;
import java.util.List;
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
        RefusingPublisher kafka = new RefusingPublisher(null, Duration.ofSeconds(1), Duration.ofSeconds(1),
                new SimpleMeterRegistry());
        kafka.refuse(Topics.CALL_CONTROL);
        Throwable refused = catchThrowable(() -> kafka.publishAll(List.of(OutboundRecord.of(Topics.CALL_CONTROL,
                "acme:campaign:spring", new byte[1])), CallControls.CANCEL_KEPT).block(Duration.ofSeconds(5)));

        assertThat(refused).isInstanceOf(ApiProblem.class);
        assertThat(CallControls.keptCancel(refused)).isSameAs(refused);
    }

    @Test
    void aCancelThePublisherTurnedAwayForItsBudgetSaysItIsKeptNotThatNothingWasQueued() {
        ApiProblem budgetSpent = Problems.unavailable("The service holds as many records as it takes while Kafka "
                + "acknowledges them; nothing of this request was queued. Retry later.", Duration.ofSeconds(1), null);

        assertThat(CallControls.keptCancel(budgetSpent)).isInstanceOfSatisfying(ApiProblem.class, problem -> {
            assertThat(problem.getStatusCode().value()).isEqualTo(503);
            assertThat(problem.getHeaders().getFirst(HttpHeaders.RETRY_AFTER)).isEqualTo("5");
            assertThat(problem.getBody().getDetail()).contains("The campaign is canceled all the same")
                    .doesNotContain("nothing of this request was queued");
        });
    }
}
