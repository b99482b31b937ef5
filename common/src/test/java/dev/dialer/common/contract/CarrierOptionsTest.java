package dev.dialer.common.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which SIP headers of a command the SIP trunk carrier adds to its INVITE as given. */
class CarrierOptionsTest {

    @ParameterizedTest
    @ValueSource(strings = {"X-Crm-Id", "User-to-User", "P-Asserted-Identity", "Privacy", "Session-Expires",
            "Diversion"})
    void aHeaderTheDialogDoesNotDependOnIsAdded(String name) {
        assertThat(CarrierOptions.isAllowedSipHeaderName(name)).isTrue();
    }

    /** What a caller header's URIs are, as a regular expression: the reading {@code callerUsers} makes in one pass. */
    private static final Pattern CALLER_URI = Pattern.compile("(?i)(?:sips?:([^@;>,?\\s]+)@|tel:([^;>,?\\s]+))");

    @Test
    void aCallerHeadersUrisAreReadInOnePassAsTheirGrammarReadsThem() {
        Random random = new Random(7);
        String[] pieces = {"sip:", "SIPS:", "tel:", "Tel:", "s", "i", "p", "t", ":", "@", ";", ">", "<", ",", "?",
                " ", "\t", "1", "+4930", "%2B", "x", "sip", "te",
                // Not ASCII, which Java's case folding takes for s and i, and no SIP grammar does.
                "\u017Fip:", "s\u0131p:", "S\u0130P:"};
        for (int sample = 0; sample < 50_000; sample++) {
            StringBuilder value = new StringBuilder();
            for (int piece = random.nextInt(12); piece >= 0; piece--) {
                value.append(pieces[random.nextInt(pieces.length)]);
            }
            List<String> expected = new ArrayList<>();
            Matcher uri = CALLER_URI.matcher(value);
            while (uri.find()) {
                expected.add(uri.group(1) != null ? uri.group(1) : uri.group(2));
            }
            assertThat(CarrierOptions.callerUsers(value.toString())).as(value.toString()).isEqualTo(expected);
        }
    }

    @Test
    @Timeout(value = 30, unit = TimeUnit.SECONDS)
    void aLongCallerHeaderWithoutUsersIsReadToItsEnd() {
        // A command written straight to Kafka is held to no header length: a search going back over the text would
        // take some 10^11 steps here (hours), holding the partition that reads it.
        String value = "sip:".repeat(250_000) + "tel:+15551234567";

        assertThat(CarrierOptions.callerHeaders(Map.of("headers", Map.of("P-Asserted-Identity", value))))
                .containsOnly(Map.entry("P-Asserted-Identity", List.of("+15551234567")));
    }

    @Test
    void aCallerHeadersNumberWrittenWithEscapesIsTheNumberATrunkReads() {
        Map<String, Object> options = Map.of("headers", Map.of(
                "P-Asserted-Identity", "<sip:%2B15551234567@sbc.example.com>, <sip:+1555123456%37@sbc.example.com>",
                "Remote-Party-ID", "<sip:+19995550000:secret@sbc.example.com>;party=calling",
                "P-Preferred-Identity", "<sip:%41lice@example.com>, <sip:%C3%A9@example.com>",
                // Not numbers, but with digits a trunk might read as one: presented, so refused where a list is kept.
                "Diversion", "<sip:%2@example.com>, <sip:alice2@example.com>"));

        assertThat(CarrierOptions.callerHeaders(options)).containsOnly(
                Map.entry("P-Asserted-Identity", List.of("+15551234567", "+15551234567")),
                Map.entry("Remote-Party-ID", List.of("+19995550000")),
                Map.entry("Diversion", List.of("%2", "alice2")));
        // A SIP URI without a user names a host: it presents no number, whatever digits the host has.
        assertThat(CarrierOptions.assertedCallers(Map.of("headers", Map.of("Remote-Party-ID",
                "<sip:192.0.2.10:5060>;party=calling, <sip:gw2.carrier.net>, <tel:+1-555-123-4567;ext=2>"))))
                .containsExactly("+1-555-123-4567");
        // Not a string (written straight to Kafka): read as the text the SIP trunk would write.
        assertThat(CarrierOptions.assertedCallers(Map.of("headers", Map.of("P-Asserted-Identity",
                List.of("<sip:+19995550000@sbc.example.com>"))))).containsExactly("+19995550000");
        assertThat(CarrierOptions.unescaped("%2b49%2D30%20")).isEqualTo("+49-30 ");
        assertThat(CarrierOptions.unescaped("12%")).isEqualTo("12%");
        assertThat(CarrierOptions.unescaped("12%4")).isEqualTo("12%4");
        assertThat(CarrierOptions.unescaped("12%zz3")).isEqualTo("12%zz3");
        assertThat(CarrierOptions.unescaped("1555123456%\u0663\u0667")).as("other scripts' digits are no escape")
                .isEqualTo("1555123456%\u0663\u0667");
        assertThat(CarrierOptions.unescaped("%\uFF13\uFF17")).as("nor are full-width ones")
                .isEqualTo("%\uFF13\uFF17");
    }

    @Test
    void secondsAreWholePositiveNumbersCountedForAtMostADay() {
        assertThat(CarrierOptions.seconds(Map.of("timeout", 30), "timeout")).isEqualTo(30L);
        assertThat(CarrierOptions.seconds(Map.of("timeout", 30.7), "timeout")).isEqualTo(30L);
        assertThat(CarrierOptions.seconds(Map.of("timeout", 10_000_000_000L), "timeout"))
                .isEqualTo(CarrierOptions.MAX_SECONDS);
        assertThat(CarrierOptions.seconds(Map.of("timeout", 1e300), "timeout")).isEqualTo(CarrierOptions.MAX_SECONDS);
        // 2^64 + 30 and 2^63 + 30, as JSON integers past a long read: not 30 s, nor the default
        assertThat(CarrierOptions.seconds(Map.of("timeout", new BigInteger("18446744073709551646")), "timeout"))
                .isEqualTo(CarrierOptions.MAX_SECONDS);
        assertThat(CarrierOptions.seconds(Map.of("timeout", new BigInteger("9223372036854775838")), "timeout"))
                .isEqualTo(CarrierOptions.MAX_SECONDS);
        assertThat(CarrierOptions.seconds(Map.of("timeout", new BigInteger("-18446744073709551586")), "timeout"))
                .isNull();
        assertThat(CarrierOptions.seconds(Map.of("timeout", 0), "timeout")).isNull();
        assertThat(CarrierOptions.seconds(Map.of("timeout", "30"), "timeout")).isNull();
        assertThat(CarrierOptions.seconds(Map.of(), "timeout")).isNull();
    }

    @Test
    void theCallerHeadersNumbersAreTheirUrisUserPartsWrittenAsNumbers() {
        Map<String, Object> options = Map.of("headers", Map.of(
                "P-Asserted-Identity", "\"Sales\" <sip:+918068281234@sbc.example.com;user=phone>, <tel:+918068281235>",
                "Remote-Party-ID", "<sip:080-6828-1236@10.0.0.1>;party=calling;privacy=off",
                "P-Preferred-Identity", "<sip:anonymous@anonymous.invalid>",
                "X-Crm", "sip:+918068289999@crm.example.com"));

        assertThat(CarrierOptions.callerHeaders(options)).containsOnly(
                Map.entry("P-Asserted-Identity", List.of("+918068281234", "+918068281235")),
                Map.entry("Remote-Party-ID", List.of("080-6828-1236")));
        assertThat(CarrierOptions.assertedCallers(options)).hasSize(3);
        assertThat(CarrierOptions.assertedCallers(Map.of())).isEmpty();
        assertThat(CarrierOptions.assertedCallers(Map.of("headers", "P-Asserted-Identity: x"))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"Via", "call-id", "i", "Contact", "Content-Type", "Content-Encoding", "e",
            "Content-Disposition", "Content-Language", "Require", "Supported", "k", "Proxy-Require", "RSeq", "RAck",
            "Route", "Authorization", "X-Dialer-Request-Id", "X-Dialer-Later", "X Crm"})
    void aHeaderTheDialogDependsOnOrAnExtensionTheDialerLacksIsNot(String name) {
        assertThat(CarrierOptions.isAllowedSipHeaderName(name)).isFalse();
    }
}
