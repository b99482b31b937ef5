package dev.dialer.api.send;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.FieldError;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SendRequestParserTest {

    @Test
    void readsTheSeedsAudioIdExample() {
        SendRequest request = SendRequestParser.parse("""
                {
                "bridge":"91806828XXXX",
                "to":"918867135XXXX",
                "audio":"39888925-718e-43bb-a8b1-d4a3XXXXX",
                "name":"obd_api_call"
                }""");

        assertThat(request.bridge()).isEqualTo("91806828XXXX");
        assertThat(request.to()).containsExactly("918867135XXXX");
        assertThat(request.audio()).isEqualTo("39888925-718e-43bb-a8b1-d4a3XXXXX");
        assertThat(request.campaign()).isEqualTo("obd_api_call");
        assertThat(request.interval()).isZero();
    }

    @Test
    void readsTheSeedsFlowIdWithFlatVariablesExample() {
        SendRequest request = SendRequestParser.parse("""
                {"bridge":"918068281234","to":"919876543215","flow_id":"24",
                 "variables[Name]":"YourName","variables[otp]":"123456"}""");

        assertThat(request.flowId()).isEqualTo("24");
        assertThat(request.variables()).containsExactlyInAnyOrderEntriesOf(Map.of("Name", "YourName", "otp", "123456"));
    }

    @Test
    void readsTheSeedsAudioUrlExample() {
        SendRequest request = SendRequestParser.parse("""
                {"bridge":"918068281234","to":"919876543215","audio":"http://youraudiofilelocation.mp3"}""");

        assertThat(request.audio()).isEqualTo("http://youraudiofilelocation.mp3");
    }

    @Test
    void readsFormEncodedBodiesWithFlatVariables() {
        SendRequest request = SendRequestParser.parse(
                "bridge=918068281234&to=919876543215%2C919876543216&flow_id=23&interval=15"
                        + "&variables%5BName%5D=Your+Name&foreign_id=abc");

        assertThat(request.to()).containsExactly("919876543215", "919876543216");
        assertThat(request.interval()).isEqualTo(15);
        assertThat(request.variables()).containsEntry("Name", "Your Name");
        assertThat(request.foreignId()).isEqualTo("abc");
    }

    @Test
    void readsNestedVariablesAndRecipientArrays() {
        SendRequest request = SendRequestParser.parse("""
                {"bridge":"918068281234","to":["919876543215", 919876543216],"flow_id":23,
                 "variables":{"Name":"A"},"interval":"5"}""");

        assertThat(request.to()).containsExactly("919876543215", "919876543216");
        assertThat(request.flowId()).isEqualTo("23");
        assertThat(request.variables()).containsEntry("Name", "A");
        assertThat(request.interval()).isEqualTo(5);
    }

    @Test
    void namesEveryMissingMandatoryField() {
        assertThat(errorsOf("{}")).extracting(FieldError::field).containsExactlyInAnyOrder("bridge", "to", "flow_id");
    }

    @Test
    void refusesAnIntervalOutsideTheSeedsValues() {
        assertThat(errorsOf("""
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","interval":7}"""))
                .extracting(FieldError::field).containsExactly("interval");
    }

    @Test
    void refusesAnAudioUrlWithAnotherScheme() {
        assertThat(errorsOf("""
                {"bridge":"918068281234","to":"919876543215","audio":"ftp://x/a.mp3"}"""))
                .extracting(FieldError::field).containsExactly("audio");
    }

    @Test
    void refusesMalformedJsonAsABadBody() {
        assertThat(errorsOf("{\"bridge\": ")).extracting(FieldError::field).containsExactly("body");
    }

    private static java.util.List<FieldError> errorsOf(String body) {
        try {
            SendRequestParser.parse(body);
        } catch (ApiProblem problem) {
            assertThat(problem.status().value()).isEqualTo(400);
            return problem.errors();
        }
        assertThatThrownBy(() -> { }).as("expected a validation problem for " + body).isNotNull();
        throw new AssertionError("expected a validation problem for " + body);
    }
}
