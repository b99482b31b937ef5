package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JambonzCallbackReaderTest {

    @Test
    void readsStatusSipFieldsAndCorrelationIdsFromCustomerData() {
        JambonzCallbackReader.Parsed parsed = read("""
                {"call_sid":"cs-1","call_status":"completed","sip_status":200,"sip_reason":"OK","duration":42,
                 "customerData":{"request_id":"r-1","attempt":2,"account_id":"a"}}""");

        assertThat(parsed).isEqualTo(new JambonzCallbackReader.Parsed("completed", "r-1", 2, "cs-1", 200, "OK", 42));
    }

    @Test
    void acceptsAttemptGivenAsString() {
        assertThat(read("""
                {"call_status":"ringing","customerData":{"request_id":"r-1","attempt":"3"}}""").attempt())
                .isEqualTo(3);
    }

    @Test
    void namesTheMissingCorrelationField() {
        assertThatThrownBy(() -> read("""
                {"call_status":"ringing","customerData":{"attempt":1}}"""))
                .isInstanceOfSatisfying(JambonzCallbackReader.InvalidCallback.class,
                        e -> assertThat(e.field()).isEqualTo("customerData.request_id"));
        assertThatThrownBy(() -> read("""
                {"call_status":"ringing","customerData":{"request_id":"r-1"}}"""))
                .isInstanceOfSatisfying(JambonzCallbackReader.InvalidCallback.class,
                        e -> assertThat(e.field()).isEqualTo("customerData.attempt"));
        assertThatThrownBy(() -> read("""
                {"customerData":{"request_id":"r-1","attempt":1}}"""))
                .isInstanceOfSatisfying(JambonzCallbackReader.InvalidCallback.class,
                        e -> assertThat(e.field()).isEqualTo("call_status"));
    }

    @Test
    void refusesBodyThatIsNotJson() {
        assertThatThrownBy(() -> read("call_status=ringing"))
                .isInstanceOfSatisfying(JambonzCallbackReader.InvalidCallback.class,
                        e -> assertThat(e.field()).isEqualTo("body"));
    }

    private static JambonzCallbackReader.Parsed read(String json) {
        return JambonzCallbackReader.read(json.getBytes(StandardCharsets.UTF_8));
    }
}
