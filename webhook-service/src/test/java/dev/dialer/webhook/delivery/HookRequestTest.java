package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class HookRequestTest {

    private static final byte[] EVENT = """
            {"event_type":"call.status","request_id":"req 1","sequence_number":3,"will_retry":false,\
            "reason":null,"notify_url":{"url":"https://customer.test/n","method":"GET"},"to":"+919876543210"}"""
            .getBytes(StandardCharsets.UTF_8);

    @Test
    void aPostCarriesTheEventAsItsBodyAndSignsTheBody() {
        HookRequest request = HookRequest.of("POST", "https://customer.test/hook?token=a", EVENT);

        assertThat(request.url()).isEqualTo("https://customer.test/hook?token=a");
        assertThat(request.body()).isEqualTo(EVENT);
        assertThat(request.signed()).isEqualTo(EVENT);
    }

    @Test
    void aGetCarriesTheTopLevelFieldsAsQueryParametersAndSignsTheRawQuery() {
        HookRequest request = HookRequest.of("GET", "https://customer.test/hook", EVENT);

        String query = "event_type=call.status&request_id=req%201&sequence_number=3&will_retry=false"
                + "&notify_url=%7B%22url%22%3A%22https%3A%2F%2Fcustomer.test%2Fn%22%2C%22method%22%3A%22GET%22%7D"
                + "&to=%2B919876543210";
        assertThat(request.url()).isEqualTo("https://customer.test/hook?" + query);
        assertThat(request.body()).isEmpty();
        assertThat(new String(request.signed(), StandardCharsets.US_ASCII)).isEqualTo(query);
    }

    @Test
    void aGetKeepsTheUrlsOwnQueryAndTheSignatureCoversItToo() {
        HookRequest request = HookRequest.of("GET", "https://customer.test/hook?token=a%20b#top",
                "{\"request_id\":\"r1\"}".getBytes(StandardCharsets.UTF_8));

        assertThat(request.url()).isEqualTo("https://customer.test/hook?token=a%20b&request_id=r1");
        assertThat(new String(request.signed(), StandardCharsets.US_ASCII)).isEqualTo("token=a%20b&request_id=r1");
    }

    @Test
    void aHeadIsSentLikeAGet() {
        HookRequest request = HookRequest.of("HEAD", "https://customer.test/hook?",
                "{\"request_id\":\"r1\"}".getBytes(StandardCharsets.UTF_8));

        assertThat(request.url()).isEqualTo("https://customer.test/hook?request_id=r1");
        assertThat(request.body()).isEmpty();
    }
}
