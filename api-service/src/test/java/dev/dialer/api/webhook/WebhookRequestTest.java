package dev.dialer.api.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.FieldProblem;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.hook.AllowList;
import dev.dialer.common.hook.PlainHttpPolicy;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

class WebhookRequestTest {

    /** api-service's default, as webhook-service's: plain http to allow-listed hosts only, and none is. */
    private static final PlainHttpPolicy HTTPS_ONLY = PlainHttpPolicy.defaults();

    @Test
    void readsUrlAndDescription() {
        WebhookRequest request = WebhookRequest.parse(
                "{\"url\":\"https://crm.example.com/hooks\",\"description\":\"crm\"}", HTTPS_ONLY);

        assertThat(request.url()).isEqualTo("https://crm.example.com/hooks");
        assertThat(request.description()).isEqualTo("crm");
    }

    @Test
    void namesAStringHoldingANulCharacter() {
        assertThat(fieldOf("{\"url\":\"https://crm.example.com/hooks\",\"description\":\"crm\\u0000\"}"))
                .isEqualTo("description");
        assertThat(fieldOf("{\"url\":\"https://crm.example.com/hooks\",\"x\\u0000\":1}")).isEqualTo("x\u0000");
    }

    @Test
    void refusesFieldsAWebhookDoesNotHaveNamingEach() {
        ApiProblem problem = catchThrowableOfType(ApiProblem.class, () -> WebhookRequest.parse(
                "{\"url\":\"https://crm.example.com/hooks\",\"enabled\":false,\"secret\":\"whsec_x\"}",
                HTTPS_ONLY));

        assertThat(problem).isNotNull();
        assertThat(problem.getBody().getType()).isEqualTo(Problems.VALIDATION);
        assertThat(problem.errors()).extracting(FieldProblem::field, FieldProblem::message).containsExactly(
                tuple("enabled", "is not a field of a webhook"), tuple("secret", "is not a field of a webhook"));
    }

    @Test
    void countsTheDescriptionInCharactersAsTheOpenApiDocumentDoes() {
        String emoji = "\uD83D\uDE00";
        WebhookRequest request = WebhookRequest.parse(
                "{\"url\":\"https://crm.example.com/hooks\",\"description\":\"" + emoji.repeat(256) + "\"}",
                HTTPS_ONLY);

        assertThat(request.description()).hasSize(512);
        assertThat(fieldOf("{\"url\":\"https://crm.example.com/hooks\",\"description\":\"" + "x".repeat(257) + "\"}"))
                .isEqualTo("description");
    }

    @Test
    void leavesTheDescriptionOptional() {
        assertThat(WebhookRequest.parse("{\"url\":\"https://127.0.0.1:9999/h\"}", HTTPS_ONLY).description()).isNull();
    }

    @Test
    void namesUrlWhenItIsMissingRelativeOrNotHttp() {
        assertThat(fieldOf("{}")).isEqualTo("url");
        assertThat(fieldOf("{\"url\":\"/hooks\"}")).isEqualTo("url");
        assertThat(fieldOf("{\"url\":\"ftp://example.com/h\"}")).isEqualTo("url");
        assertThat(fieldOf("{\"url\":\"https:///nohost\"}")).isEqualTo("url");
        assertThat(fieldOf("{\"url\":\"https://exa mple.com\"}")).isEqualTo("url");
        assertThat(fieldOf("{\"url\":42}")).isEqualTo("url");
        // What the delivery could not send as written: a URL that is not ASCII, or holds characters a URI may not.
        assertThat(fieldOf("{\"url\":\"https://crm.example.com/caf\u00e9\"}")).isEqualTo("url");
        assertThat(fieldOf("{\"url\":\"https://crm.example.com/h?id={id}\"}")).isEqualTo("url");
    }

    @Test
    void namesUrlWhenItIsPlainHttpToAHostNotAllowListed() {
        assertThat(fieldOf("{\"url\":\"http://crm.example.com/h\"}")).isEqualTo("url");
        assertThat(fieldOf("{\"url\":\"HTTP://93.184.216.34/h\"}")).isEqualTo("url");
    }

    @Test
    void takesPlainHttpToAHostAllowListedAsWebhookServiceWould() {
        PlainHttpPolicy local = new PlainHttpPolicy(PlainHttpPolicy.Mode.ALLOW_LISTED,
                new AllowList(List.of("127.0.0.1", "localhost")));

        assertThat(WebhookRequest.parse("{\"url\":\"http://127.0.0.1:9999/h\"}", local).url())
                .isEqualTo("http://127.0.0.1:9999/h");
        assertThat(WebhookRequest.parse("{\"url\":\"http://LocalHost:9999/h\"}", local).url())
                .isEqualTo("http://LocalHost:9999/h");
        ApiProblem refused = catchThrowableOfType(ApiProblem.class,
                () -> WebhookRequest.parse("{\"url\":\"http://crm.example.com/h\"}", local));
        assertThat(refused.errors()).extracting(FieldProblem::field).containsExactly("url");
    }

    @Test
    void aMemberGivenTwiceIsA400NamingItRatherThanKeepingTheLast() {
        ApiProblem problem = catchThrowableOfType(ApiProblem.class, () -> WebhookRequest.parse(
                "{\"url\":\"https://a.example.com/h\",\"url\":\"https://b.example.com/h\"}", HTTPS_ONLY));

        assertThat(problem).isNotNull();
        assertThat(problem.getBody().getType()).isEqualTo(Problems.VALIDATION);
        assertThat(problem.errors()).containsExactly(new FieldProblem("url", "is given more than once"));
        ApiProblem patch = catchThrowableOfType(ApiProblem.class,
                () -> WebhookPatch.parse("{\"enabled\":true,\"enabled\":false}", HTTPS_ONLY));
        assertThat(patch.errors()).containsExactly(new FieldProblem("enabled", "is given more than once"));
    }

    @Test
    void refusesBodiesThatAreNotAJsonObject() {
        for (String body : new String[] {"", "[]", "{\"url\":", "url=https://example.com"}) {
            ApiProblem problem = catchThrowableOfType(ApiProblem.class, () -> WebhookRequest.parse(body, HTTPS_ONLY));
            assertThat(problem).as(body).isNotNull();
            assertThat(problem.getBody().getType()).isEqualTo(Problems.MALFORMED_REQUEST);
        }
    }

    @Test
    void makesStandardWebhooksSecrets() {
        String secret = Webhooks.newSecret();

        assertThat(secret).startsWith("whsec_");
        assertThat(Base64.getDecoder().decode(secret.substring("whsec_".length()))).hasSize(32);
        assertThat(Webhooks.newSecret()).isNotEqualTo(secret);
    }

    private static String fieldOf(String body) {
        ApiProblem problem = catchThrowableOfType(ApiProblem.class, () -> WebhookRequest.parse(body, HTTPS_ONLY));
        assertThat(problem).as(body).isNotNull();
        assertThat(problem.getBody().getType()).isEqualTo(Problems.VALIDATION);
        return problem.errors().stream().map(FieldProblem::field).findFirst().orElseThrow();
    }
}
