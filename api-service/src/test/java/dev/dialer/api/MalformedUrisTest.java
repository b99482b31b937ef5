package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MalformedUrisTest {

    @ParameterizedTest
    @ValueSource(strings = {"/api/v2/calls", "/api/v2/calls?campaign=100%25&limit=5", "/api/v2/calls?q=%C3%A9",
            "/v1/Accounts/acc/Calls", "http://example.com/api/v2/calls?x=1", "/api/v2/calls?campaign=a+b"})
    void aUriIsNoMalformation(String uri) {
        assertThat(MalformedUris.malformation(uri)).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/api/v2/calls?campaign=%ZZ|Malformed escape pair at character 24 of the URI",
            "/api/v2/calls?campaign=a b|Illegal character in query at character 25 of the URI",
            "/api/v2/calls?x=100%|Malformed escape pair at character 20 of the URI",
            "/api/v2/\"calls\"|Illegal character in path at character 9 of the URI"})
    void aMalformationIsSaidWithWhereItBreaksInTheRequestsOwnUri(String uriAndWhy) {
        String[] parts = uriAndWhy.split("\\|");
        assertThat(MalformedUris.malformation(parts[0])).isEqualTo(parts[1]);
    }
}
