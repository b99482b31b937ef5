package dev.dialer.dispatcher.carrier;

import dev.dialer.dispatcher.callback.SipStatusReports;
import dev.dialer.dispatcher.callback.StatusHookUrl;
import dev.dialer.dispatcher.carrier.routing.CarrierRoutingProperties;
import dev.dialer.dispatcher.carrier.routing.RoutingCarriers;
import dev.dialer.dispatcher.carrier.sip.SipTrunkCarrier;
import dev.dialer.dispatcher.carrier.sip.SipTrunkProperties;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.ChannelOption;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * The carriers the dispatcher dials through: the Voice Gateway REST API, a SIP trunk when
 * {@code dialer.dispatcher.carrier.sip.enabled=true}, or several of them under {@code dialer.dispatcher.carrier.routing}.
 * The SIP trunk carrier produces its statuses itself and applies them like the Voice Gateway's callbacks.
 */
@Configuration(proxyBeanMethods = false)
class CarrierConfiguration {

    private static final Duration MAX_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /**
     * Its own pool, so carrier traffic neither shares nor exhausts connections with anything else. An idle connection
     * is dropped after 4 s, before the 5 s after which Node's HTTP server (jambonz's API) closes it: a create-call
     * request written into a connection the carrier is closing is lost after it was sent, and such a call may not be
     * dialled again (see {@link CarrierException#mayHaveBeenPlaced}).
     */
    @Bean(destroyMethod = "dispose")
    ConnectionProvider voiceGatewayConnections(CarrierProperties properties) {
        return ConnectionProvider.builder("voice-gateway")
                .maxConnections(500)
                // Within the request's timeout: a connection not had from the pool is a request never sent
                // (unreachable: failed over, or requeued), not one the request's timeout takes as maybe placed.
                .pendingAcquireTimeout(connectTimeout(properties))
                .maxIdleTime(Duration.ofSeconds(4))
                .evictInBackground(Duration.ofSeconds(2))
                .build();
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnBooleanProperty("dialer.dispatcher.carrier.sip.enabled")
    SipTrunkCarrier sipTrunkCarrier(SipTrunkProperties properties, CarrierRoutingProperties routing,
                                    SipStatusReports statuses, Clock clock, MeterRegistry registry,
                                    DatabaseClient db) {
        requireKeepTimeoutWithinRequestTimeout(properties, routing);
        return SipTrunkCarrier.durable(properties, statuses::report, clock, registry, db);
    }

    /**
     * A SIP call not kept within {@code keep-timeout} fails as not placed; the carrier's request timeout, if shorter,
     * would end the dial first with its outcome unknown, left to the watchdog for over an hour: refused at start.
     */
    static void requireKeepTimeoutWithinRequestTimeout(SipTrunkProperties sip, CarrierRoutingProperties routing) {
        Duration requestTimeout = routing.guard().timeout();
        if (sip.keepTimeout().compareTo(requestTimeout) >= 0) {
            throw new IllegalStateException("dialer.dispatcher.carrier.sip.keep-timeout (" + sip.keepTimeout()
                    + ") must be shorter than dialer.dispatcher.carrier.routing.guard.timeout (" + requestTimeout
                    + ")");
        }
    }

    /**
     * The carrier everything else uses: the configured carriers (or the one default carrier) each behind its own
     * timeout, breaker and bulkhead, chosen per call by the routing rules, with failover on technical failures.
     */
    @Bean
    @Primary
    Carrier carrier(CarrierProperties properties, CarrierRoutingProperties routing,
                    ConnectionProvider voiceGatewayConnections, StatusHookUrl statusHookUrl,
                    ObjectProvider<SipTrunkCarrier> sipTrunk, ApplicationStatusHooks applications,
                    MeterRegistry registry) {
        SipTrunkCarrier sip = sipTrunk.getIfAvailable();
        routing.validate(sip != null);
        WebClient client = webClient(properties, voiceGatewayConnections);
        Map<String, Carrier> carriers = new LinkedHashMap<>();
        if (routing.enabled()) {
            routing.carriers().forEach((name, endpoint) -> {
                CarrierProperties route = properties.withEndpoint(endpoint.baseUrl(), endpoint.accountSid(),
                        endpoint.apiKey(), endpoint.notifyUrl(), endpoint.applicationSid());
                carriers.put(name, voiceGateway(new VoiceGatewayCarrier(name, route, client, statusHookUrl::get,
                        registry, applications, true), route));
            });
            if (sip != null) {
                carriers.put(CarrierRoutingProperties.SIP, sip);
            }
        } else if (sip != null) {
            carriers.put(CarrierRoutingProperties.SIP, sip);
        } else {
            carriers.put(VoiceGatewayCarrier.NAME, voiceGateway(new VoiceGatewayCarrier(VoiceGatewayCarrier.NAME,
                    properties, client, statusHookUrl::get, registry, applications, true), properties));
        }
        return RoutingCarriers.of(routing, carriers, registry);
    }

    /** The carrier, its default application (the audio player) noted for a check once the dispatcher has started. */
    private static VoiceGatewayCarrier voiceGateway(VoiceGatewayCarrier carrier, CarrierProperties properties) {
        carrier.noteApplication(properties.defaultApplicationSid());
        return carrier;
    }

    /**
     * The carriers' HTTP client: its connections from {@code connections}, connecting within
     * {@link #connectTimeout}, and noting in each request's {@link RequestWriting} when it has a connection to be
     * written to (a request whose carrier name does not resolve, or whose TLS handshake stalls or is cut short, is
     * then told apart from one the carrier took and did not answer, or whose connection was lost after it was sent).
     */
    static WebClient webClient(CarrierProperties properties, ConnectionProvider connections) {
        HttpClient http = HttpClient.create(connections)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout(properties).toMillis())
                .doOnRequest((request, connection) -> RequestWriting.starting(request.currentContextView()));
        return WebClient.builder().clientConnector(new ReactorClientHttpConnector(http)).build();
    }

    /**
     * How long a connection to the carrier may take, or one from the pool: half the request's timeout, at most 2 s.
     * Shorter than the request's timeout, so that a carrier host that is down or behind a firewall dropping packets
     * (no refusal comes back) is told apart from one that took the request and did not answer: the first is
     * unreachable, and its calls go to the next carrier or wait, never dialled; the second's calls may have been
     * placed, and are left to the watchdog.
     */
    static Duration connectTimeout(CarrierProperties properties) {
        Duration half = properties.requestTimeout().dividedBy(2);
        return half.compareTo(MAX_CONNECT_TIMEOUT) < 0 ? half : MAX_CONNECT_TIMEOUT;
    }
}
