package dev.dialer.api.subscription;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.api.account.Account;
import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.FieldProblem;
import org.junit.jupiter.api.Test;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;

class SubscriptionControllerTest {

    private static final Account ACME = new Account("acme", "Acme", "IN");

    @Test
    void refusesAnEmptyWebhookFilterNamingItRatherThanListingEveryWebhooksSubscriptions() {
        SubscriptionController controller = new SubscriptionController(null);

        for (String empty : new String[] {"", " "}) {
            MockServerHttpRequest request = MockServerHttpRequest.get("/api/v2/subscriptions")
                    .queryParam("webhook_id", empty).build();
            assertThatThrownBy(() -> controller.list(ACME, empty, request))
                    .isInstanceOfSatisfying(ApiProblem.class, problem -> {
                        assertThat(problem.getStatusCode().value()).isEqualTo(400);
                        assertThat(problem.errors()).extracting(FieldProblem::field).containsExactly("webhook_id");
                    });
        }
    }

    @Test
    void filtersOnTheWebhookGivenStrippedAndOnNoneWhenTheParameterIsLeftOut() {
        assertThat(SubscriptionController.webhookFilter(" 5f0c1a9e ")).isEqualTo("5f0c1a9e");
        assertThat(SubscriptionController.webhookFilter(null)).isNull();
    }
}
