package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.standardwebhooks.Webhook;
import com.standardwebhooks.exceptions.WebhookVerificationException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Our signatures checked by the Standard Webhooks reference library, not by our own code. */
class WebhookSignerTest {

    private static final byte[] BODY = """
            {"version":1,"event_id":"ev-1","event_type":"call.status","status":"ringing","to":"+919876543210"}"""
            .getBytes(StandardCharsets.UTF_8);

    private final WebhookSigner signer = new WebhookSigner(Clock.systemUTC());

    @Test
    void signatureIsAcceptedByTheReferenceLibrary() {
        String secret = newSecret();

        Map<String, String> headers = signer.headers(secret, "ev-1", BODY);

        assertThatCode(() -> new Webhook(secret).verify(new String(BODY, StandardCharsets.UTF_8), asHttp(headers)))
                .doesNotThrowAnyException();
    }

    @Test
    void duringARotationTheReferenceLibraryAcceptsEitherSecretAndNoOther() {
        String current = newSecret();
        String previous = newSecret();

        Map<String, String> headers = signer.headers(current, previous, "ev-1", BODY);

        String body = new String(BODY, StandardCharsets.UTF_8);
        assertThat(headers.get("webhook-signature").split(" ")).hasSize(2).allMatch(part -> part.startsWith("v1,"));
        assertThatCode(() -> new Webhook(current).verify(body, asHttp(headers))).doesNotThrowAnyException();
        assertThatCode(() -> new Webhook(previous).verify(body, asHttp(headers))).doesNotThrowAnyException();
        assertThatThrownBy(() -> new Webhook(newSecret()).verify(body, asHttp(headers)))
                .isInstanceOf(WebhookVerificationException.class);
    }

    @Test
    void withoutAPreviousSecretThereIsOneSignature() {
        Map<String, String> headers = signer.headers(newSecret(), null, "ev-1", BODY);

        assertThat(headers.get("webhook-signature")).doesNotContain(" ");
    }

    @Test
    void referenceLibraryRejectsATamperedBody() {
        String secret = newSecret();
        Map<String, String> headers = signer.headers(secret, "ev-1", BODY);
        String tampered = new String(BODY, StandardCharsets.UTF_8).replace("ringing", "completed");

        assertThatThrownBy(() -> new Webhook(secret).verify(tampered, asHttp(headers)))
                .isInstanceOf(WebhookVerificationException.class);
    }

    @Test
    void referenceLibraryRejectsAnotherSecret() {
        Map<String, String> headers = signer.headers(newSecret(), "ev-1", BODY);

        assertThatThrownBy(() -> new Webhook(newSecret()).verify(new String(BODY, StandardCharsets.UTF_8),
                asHttp(headers)))
                .isInstanceOf(WebhookVerificationException.class);
    }

    @Test
    void headersCarryTheMessageIdAndTheAttemptTimeInUnixSeconds() {
        Instant now = Instant.parse("2026-03-01T10:15:30.750Z");
        WebhookSigner fixed = new WebhookSigner(Clock.fixed(now, ZoneOffset.UTC));

        Map<String, String> headers = fixed.headers(newSecret(), "ev-42", BODY);

        assertThat(headers)
                .containsEntry("webhook-id", "ev-42")
                .containsEntry("webhook-timestamp", Long.toString(now.getEpochSecond()));
        assertThat(headers.get("webhook-signature")).startsWith("v1,");
    }

    @Test
    void matchesTheReferenceLibrarysSignatureForTheSameInput() throws Exception {
        String secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        String payload = "{\"test\": 2432232314}";

        String ours = WebhookSigner.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330L,
                payload.getBytes(StandardCharsets.UTF_8));

        assertThat(ours)
                .isEqualTo(new Webhook(secret).sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330L, payload))
                .isEqualTo("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    @Test
    void acceptsASecretWithoutItsPrefix() {
        String secret = newSecret();
        String bare = secret.substring("whsec_".length());

        assertThat(WebhookSigner.signature(bare, "ev-1", 1L, BODY))
                .isEqualTo(WebhookSigner.signature(secret, "ev-1", 1L, BODY));
    }

    @Test
    void refusesASecretThatIsNotBase64() {
        assertThatThrownBy(() -> signer.headers("whsec_not base64!", "ev-1", BODY))
                .isInstanceOf(IllegalArgumentException.class);
    }

    static String newSecret() {
        byte[] key = new byte[24];
        new SecureRandom().nextBytes(key);
        return "whsec_" + Base64.getEncoder().encodeToString(key);
    }

    private static Map<String, List<String>> asHttp(Map<String, String> headers) {
        return headers.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> List.of(e.getValue())));
    }
}
