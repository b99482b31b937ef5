package dev.dialer.dispatcher.policy;

import dev.dialer.dispatcher.carrier.CarrierProperties;
import java.util.Map;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;

/**
 * {@link CallHangUp} on the Voice Gateway (jambonz) REST API: {@code PUT /v1/Accounts/{sid}/Calls/{call_sid}} with
 * {@code call_status} "no-answer" (cancels a ringing call) or "completed" (hangs up an answered one). The carrier
 * answers 400 when the call is not in a state the update fits: a ringing call answered meanwhile is hung up with the
 * other status, once; a call that ended is {@link Result#ALREADY_OVER}. Each request runs under the carrier's
 * request timeout and is sent at most twice.
 */
final class VoiceGatewayHangUp implements CallHangUp {

    private static final String CANCEL_RINGING = "no-answer";
    private static final String HANG_UP_ANSWERED = "completed";

    private final CarrierProperties properties;
    private final WebClient client;

    VoiceGatewayHangUp(CarrierProperties properties, WebClient client) {
        this.properties = properties;
        this.client = client;
    }

    @Override
    public Mono<Result> hangUp(String providerCallId, boolean answered) {
        String first = answered ? HANG_UP_ANSWERED : CANCEL_RINGING;
        String second = answered ? CANCEL_RINGING : HANG_UP_ANSWERED;
        return update(providerCallId, first)
                .flatMap(result -> result == Result.ALREADY_OVER ? update(providerCallId, second) : Mono.just(result));
    }

    private Mono<Result> update(String providerCallId, String status) {
        return client.put()
                .uri(properties.baseUrl().replaceAll("/+$", "") + "/v1/Accounts/{sid}/Calls/{callSid}",
                        properties.accountSid(), providerCallId)
                .contentType(MediaType.APPLICATION_JSON)
                .headers(headers -> {
                    if (properties.apiKey() != null) {
                        headers.setBearerAuth(properties.apiKey());
                    }
                })
                .bodyValue(Map.of("call_status", status))
                .exchangeToMono(response -> response.releaseBody().thenReturn(response.statusCode()))
                .timeout(properties.requestTimeout())
                .flatMap(VoiceGatewayHangUp::result);
    }

    private static Mono<Result> result(HttpStatusCode status) {
        if (status.is2xxSuccessful()) {
            return Mono.just(Result.ENDED);
        }
        if (status.value() == 400 || status.value() == 404) {
            return Mono.just(Result.ALREADY_OVER);
        }
        return Mono.error(new IllegalStateException("carrier answered HTTP " + status.value() + " to a hang-up"));
    }
}
