package dev.dialer.common.contract;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The SIP URIs a command may name: plain RFC 3261 URIs, nothing that could split or add a header field. */
class DestinationTest {

    @Test
    void plainSipAndSipsUrisWithParametersArePhoneless() {
        for (String uri : new String[] {"sip:alice@pbx.example.com;transport=tcp", "sips:bob@example.com:5061",
                "sip:pbx.example.com", "sip:10.0.0.7:5060;lr", "sip:%61lice@[2001:db8::1]:5060",
                "sip:+4930123456;phone-context=example.com@gw.example.com;user=phone"}) {
            assertThat(Destination.kindOf(uri)).as(uri).isEqualTo(Destination.Kind.SIP);
        }
    }

    @Test
    void aUriThatCouldCloseOrSplitAHeaderFieldOrCarriesAPasswordOrHeadersIsRefused() {
        for (String uri : new String[] {"sip:alice@pbx.example.com>", "sip:<alice@pbx.example.com>",
                "sip:\"alice\"@pbx.example.com", "sip:alice@pbx.example.com,sip:bob@pbx.example.com",
                "sip:alice@pbx.example.com;transport=tcp\r\nX-Evil: 1", "sip:al ice@pbx.example.com",
                "sip:alice@pbx.example.com\t", "sip:alic\u00e9@pbx.example.com", "sip:alice@pbx.\u0001example.com",
                "sip:alice@pbx.example.com?Subject=hello", "sip:alice@pbx.example.com;x=1?Route=%3Csip:evil%3E",
                "sip:alice:secret@pbx.example.com", "sip:alice@", "sip:@pbx.example.com"}) {
            assertThat(Destination.isSipUri(uri)).as(uri).isFalse();
        }
    }

    @Test
    void userNamesAreVisibleAsciiWithoutSpaces() {
        assertThat(Destination.kindOf("user:spike@sip.example.com")).isEqualTo(Destination.Kind.USER);
        assertThat(Destination.isUserName("al ice")).isFalse();
        assertThat(Destination.isUserName("alice\r\n")).isFalse();
        assertThat(Destination.isUserName("alic\u00e9")).isFalse();
    }
}
