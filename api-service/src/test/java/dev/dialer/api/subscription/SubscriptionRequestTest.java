package dev.dialer.api.subscription;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.FieldProblem;
import org.junit.jupiter.api.Test;

class SubscriptionRequestTest {

    @Test
    void createNeedsAWebhookAndEventTypesAndIsEnabledByDefault() {
        SubscriptionRequest request = SubscriptionRequest.create(
                "{\"webhook_id\":\"w1\",\"event_types\":[\"call.final\",\"webhook.disabled\",\"call.final\"]}");

        assertThat(request.webhookId()).isEqualTo("w1");
        assertThat(request.eventTypes()).containsExactly("call.final", "webhook.disabled");
        assertThat(request.enabled()).isTrue();
    }

    @Test
    void acceptsEveryEventTypeOfTheContract() {
        assertThat(SubscriptionRequest.EVENT_TYPES)
                .containsExactly("call.status", "call.deferred", "call.final", "call.cancel_rejected",
                        "webhook.disabled");
    }

    @Test
    void namesEachBadEventTypeByIndex() {
        assertThatThrownBy(() -> SubscriptionRequest.create(
                "{\"webhook_id\":\"w1\",\"event_types\":[\"call.final\",\"call.answered\",3]}"))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .extracting(FieldProblem::field).containsExactly("event_types[1]", "event_types[2]"));
    }

    @Test
    void aMemberGivenTwiceIsA400NamingItRatherThanKeepingTheLast() {
        assertThatThrownBy(() -> SubscriptionRequest.create(
                "{\"webhook_id\":\"w1\",\"webhook_id\":\"w2\",\"event_types\":[\"call.final\"]}"))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .containsExactly(new FieldProblem("webhook_id", "is given more than once")));
    }

    @Test
    void aChangeMayNameOneFieldButNotNone() {
        SubscriptionRequest change = SubscriptionRequest.change("{\"enabled\":false}");

        assertThat(change.enabled()).isFalse();
        assertThat(change.webhookId()).isNull();
        assertThat(change.eventTypes()).isNull();
        assertThatThrownBy(() -> SubscriptionRequest.change("{}")).isInstanceOf(ApiProblem.class);
        assertThatThrownBy(() -> SubscriptionRequest.change("{\"event_types\":[]}"))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .extracting(FieldProblem::field).containsExactly("event_types"));
    }

    @Test
    void refusesUnknownFields() {
        assertThatThrownBy(() -> SubscriptionRequest.create(
                "{\"webhook_id\":\"w1\",\"event_types\":[\"call.final\"],\"events\":[]}"))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .extracting(FieldProblem::field).containsExactly("events"));
    }
}
