package dev.dialer.api.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.FieldProblem;
import dev.dialer.common.hook.PlainHttpPolicy;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class WebhookPatchTest {

    private static final Instant CREATED = Instant.parse("2026-01-01T00:00:00Z");
    private static final Instant NOW = Instant.parse("2026-01-02T00:00:00Z");

    @Test
    void keepsWhatThePatchDoesNotName() {
        Webhook changed = parse("{\"url\":\"https://b.example.com/h\"}").applyTo(webhook(true, null), NOW);

        assertThat(changed.url()).isEqualTo("https://b.example.com/h");
        assertThat(changed.description()).isEqualTo("crm");
        assertThat(changed.secret()).isEqualTo("whsec_a");
        assertThat(changed.enabled()).isTrue();
        assertThat(changed.updatedAt()).isEqualTo(NOW);
        assertThat(changed.createdAt()).isEqualTo(CREATED);
    }

    @Test
    void nullDescriptionClearsIt() {
        Webhook changed = parse("{\"description\":null}").applyTo(webhook(true, null), NOW);

        assertThat(changed.description()).isNull();
    }

    @Test
    void disablingRecordsTheCustomerAndEnablingClearsAnyReason() {
        Webhook disabled = parse("{\"enabled\":false}").applyTo(webhook(true, null), NOW);
        Webhook enabled = parse("{\"enabled\":true}").applyTo(webhook(false, "gone"), NOW);
        Webhook stillGone = parse("{\"description\":\"x\"}").applyTo(webhook(false, "gone"), NOW);

        assertThat(disabled.disabledReason()).isEqualTo("customer");
        assertThat(enabled.enabled()).isTrue();
        assertThat(enabled.disabledReason()).isNull();
        assertThat(stillGone.enabled()).isFalse();
        assertThat(stillGone.disabledReason()).isEqualTo("gone");
    }

    @Test
    void onlyEnablingMovesWhenTheWebhookWasEnabledSinceAndAnExplicitEnableDoesEvenWhenItShowsEnabled() {
        Webhook renamed = parse("{\"description\":\"x\"}").applyTo(webhook(true, null), NOW);
        Webhook enabledAgain = parse("{\"enabled\":true}").applyTo(webhook(false, "failing"), NOW);
        // The account answers a disable api-service has not heard of yet: the webhook still shows enabled here.
        Webhook enabledAsItShows = parse("{\"enabled\":true}").applyTo(webhook(true, null), NOW);
        Webhook disabled = parse("{\"enabled\":false}").applyTo(webhook(true, null), NOW);

        assertThat(renamed.enabledSince()).isEqualTo(CREATED);
        assertThat(renamed.config().enabledAt()).isEqualTo(CREATED);
        assertThat(enabledAgain.enabledSince()).isEqualTo(NOW);
        assertThat(enabledAsItShows.enabledSince()).isEqualTo(NOW);
        assertThat(disabled.enabledAt()).isEqualTo(CREATED);
    }

    @Test
    void namesUnknownAndInvalidFields() {
        assertThatThrownBy(() -> parse("{\"urll\":\"x\",\"enabled\":1,\"url\":\"mailto:a@b\"}"))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .extracting(FieldProblem::field).containsExactlyInAnyOrder("urll", "enabled", "url"));
    }

    @Test
    void anEmptyPatchIsRefused() {
        assertThatThrownBy(() -> parse("{}"))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.getStatusCode().value())
                        .isEqualTo(400));
        assertThatThrownBy(() -> parse("[1]")).isInstanceOf(ApiProblem.class);
    }

    @Test
    void rotationKeepsTheReplacedSecretAsPrevious() {
        Webhook rotated = webhook(true, null).rotated("whsec_b", NOW, NOW.plusSeconds(3600));

        assertThat(rotated.config().secret()).isEqualTo("whsec_b");
        assertThat(rotated.config().previousSecret()).isEqualTo("whsec_a");
        assertThat(rotated.config().previousSecretAt(NOW.plusSeconds(10))).isEqualTo("whsec_a");
        assertThat(rotated.previousSecretAt(NOW.plusSeconds(3600))).isNull();
    }

    @Test
    void countsTheDescriptionInCharacters() {
        String emoji = "\uD83D\uDE00".repeat(256);

        Webhook changed = parse("{\"description\":\"" + emoji + "\"}").applyTo(webhook(true, null), NOW);

        assertThat(changed.description()).isEqualTo(emoji);
        assertThatThrownBy(() -> parse("{\"description\":\"" + "x".repeat(257) + "\"}"))
                .isInstanceOfSatisfying(ApiProblem.class, problem -> assertThat(problem.errors())
                        .extracting(FieldProblem::field).containsExactly("description"));
    }

    private static Webhook webhook(boolean enabled, String reason) {
        return new Webhook("w1", "acme", "https://a.example.com/h", "crm", "whsec_a", enabled, CREATED, CREATED, null,
                null, reason, enabled ? CREATED : null);
    }

    private static WebhookPatch parse(String body) {
        return WebhookPatch.parse(body, PlainHttpPolicy.defaults());
    }
}
