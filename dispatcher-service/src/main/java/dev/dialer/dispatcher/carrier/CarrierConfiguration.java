package dev.dialer.dispatcher.carrier;

import dev.dialer.dispatcher.callback.CallbackApplier;
import dev.dialer.dispatcher.callback.StatusHookUrl;
import dev.dialer.dispatcher.carrier.sip.SipTrunkCarrier;
import dev.dialer.dispatcher.carrier.sip.SipTrunkProperties;
import java.time.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.ChannelOption;
import java.time.Duration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * The carrier the dispatcher dials through: the Voice Gateway REST API, or a SIP trunk when
 * {@code dialer.dispatcher.carrier.sip.enabled=true}. The SIP trunk carrier produces its statuses itself and applies
 * them like the Voice Gateway's callbacks.
 */
@Configuration(proxyBeanMethods = false)
class CarrierConfiguration {

    /** Its own pool, so carrier traffic neither shares nor exhausts connections with anything else. */
    @Bean(destroyMethod = "dispose")
    ConnectionProvider voiceGatewayConnections(CarrierProperties properties) {
        return ConnectionProvider.builder("voice-gateway")
                .maxConnections(500)
                .pendingAcquireTimeout(properties.requestTimeout())
                .maxIdleTime(Duration.ofSeconds(30))
                .build();
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnBooleanProperty("dialer.dispatcher.carrier.sip.enabled")
    SipTrunkCarrier sipTrunkCarrier(SipTrunkProperties properties, CallbackApplier applier, Clock clock,
                                    MeterRegistry registry) {
        return new SipTrunkCarrier(properties, applier::apply, clock, registry);
    }

    @Bean
    @ConditionalOnMissingBean(Carrier.class)
    Carrier carrier(CarrierProperties properties, ConnectionProvider voiceGatewayConnections,
                    StatusHookUrl statusHookUrl, MeterRegistry registry) {
        int connectMillis = (int) Math.min(properties.requestTimeout().toMillis(), 5_000);
        HttpClient http = HttpClient.create(voiceGatewayConnections)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectMillis);
        WebClient client = WebClient.builder().clientConnector(new ReactorClientHttpConnector(http)).build();
        return new VoiceGatewayCarrier(properties, client, statusHookUrl::get, registry);
    }
}
