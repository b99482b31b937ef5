package dev.dialer.dispatcher.policy;

import dev.dialer.dispatcher.carrier.CarrierProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.reactive.function.client.WebClient;

/** How a cancel ends a live call: through the Voice Gateway REST API. */
@Configuration(proxyBeanMethods = false)
class HangUpConfiguration {

    @Bean
    CallHangUp voiceGatewayHangUp(CarrierProperties properties) {
        return new VoiceGatewayHangUp(properties, WebClient.builder().build());
    }
}
