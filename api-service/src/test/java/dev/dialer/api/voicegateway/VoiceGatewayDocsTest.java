package dev.dialer.api.voicegateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.dialer.common.contract.CarrierOptions;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The Voice Gateway body as the OpenAPI document describes it, against what {@link CreateCall} takes and checks. */
class VoiceGatewayDocsTest {

    @Test
    void everyFieldTheEndpointChecksIsAPropertyOfTheDocumentedBody() {
        Set<String> properties = Arrays.stream(VoiceGatewayDocs.Call.class.getRecordComponents())
                .map(RecordComponent::getAccessor)
                .map(accessor -> accessor.getAnnotation(JsonProperty.class).value())
                .collect(Collectors.toSet());

        assertThat(properties)
                .containsAll(CreateCall.CARRIER_HOOKS)
                .containsAll(CreateCall.CARRIER_STRINGS)
                .containsAll(CreateCall.CARRIER_ACTIONS)
                .contains(CreateCall.DTMF_CAPTURE)
                .containsAll(List.of("application_sid", "from", "to", "notifyUrl", "call_status_hook", "actionHook",
                        "timeout", "timeLimit", "tag", "amd", "headers", "callerName", "fromHost"));
    }

    @Test
    void theHeadersDescriptionNamesEveryHeaderNameTheEndpointRefusesOrHoldsToTheCallerIds() {
        String description = VoiceGatewayDocs.headersDescription();

        for (String name : CarrierOptions.RESERVED_SIP_HEADERS) {
            assertThat(description).as(name).contains(name.startsWith(CarrierOptions.DIALER_SIP_HEADERS)
                    ? "`" + CarrierOptions.DIALER_SIP_HEADERS + "*`" : "`" + name + "`");
        }
        for (String caller : CarrierOptions.CALLER_HEADERS) {
            assertThat(description).as(caller).contains("`" + caller + "`");
        }
        assertThat(description).contains("at most 2,048 characters");
    }
}
