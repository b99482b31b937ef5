package dev.dialer.api.voicegateway;

import io.swagger.v3.oas.models.media.Schema;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * What the OpenAPI document says of the Voice Gateway body that an annotation cannot: the SIP header names its
 * {@code headers} refuses, read from the list the endpoint enforces ({@link VoiceGatewayDocs#headersDescription}), so
 * that a name added there is named in the document too.
 */
@Configuration(proxyBeanMethods = false)
class VoiceGatewayOpenApi {

    @Bean
    OpenApiCustomizer voiceGatewayHeaders() {
        return openApi -> {
            if (openApi.getComponents() == null || openApi.getComponents().getSchemas() == null) {
                return;
            }
            Schema<?> call = openApi.getComponents().getSchemas().get(VoiceGatewayDocs.CALL);
            if (call != null && call.getProperties() != null && call.getProperties().get("headers") != null) {
                call.getProperties().get("headers").setDescription(VoiceGatewayDocs.headersDescription());
            }
        };
    }
}
