package dev.dialer.dispatcher.carrier;

import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The Voice Gateway (jambonz) REST carrier.
 *
 * @param baseUrl               the gateway's API root, e.g. {@code https://vg.example.com}
 * @param accountSid            account sid in {@code /v1/Accounts/{sid}/Calls}
 * @param apiKey                bearer token for the API; none is sent when absent
 * @param defaultApplicationSid application that plays a command's {@code audio} (commands with a {@code flow_id}
 *                              run that flow instead)
 * @param callbackUrl           URL the gateway posts status callbacks to; when absent,
 *                              {@code http://127.0.0.1:<server port>/carrier/voice-gateway/status}
 * @param webhookSecret         the account's webhook secret: when set, callbacks must carry a valid
 *                              {@code Jambonz-Signature}; while it is rotated, the new and the old one separated by
 *                              a comma (either signature is accepted)
 * @param requestTimeout        how long one create-call request may take before it counts as a carrier error
 * @param ringTimeout           jambonz {@code timeout}: how long the callee may ring, unless the command says otherwise
 * @param timeLimit             jambonz {@code timeLimit}: longest answered call, unless the command says otherwise
 * @param signatureTolerance    how far a callback's signature timestamp may be from now (replay protection)
 * @param notifyUrl             also send the status hook as {@code notifyUrl}, which a Cognigy Voice Gateway posts
 *                              every status to besides the application's Call Status Webhook. Only for a Cognigy
 *                              Voice Gateway: jambonz itself refuses a create-call with a field it does not know
 *                              (answered 500, so the call is left to the watchdog). Without it, the application's
 *                              Call Status Webhook must be this dispatcher's status hook, since jambonz posts a call's
 *                              statuses there and not to the request's {@code call_status_hook} (decision 0124)
 * @param applicationCheckInterval without {@code notifyUrl}: how long what the carrier said about an application's
 *                              status hook holds; the application's next use after that asks the carrier again
 *                              ({@link ApplicationStatusHooks})
 * @param tagKeys               keys that seal the tag of every create-call request ({@code TagSeal}), the same on
 *                              every dispatcher: when set, a callback whose tag names an attempt must carry its seal,
 *                              so that no carrier account's webhook secret lets its holder write callbacks about calls
 *                              placed on another account; several separated by a comma: the first seals, every one
 *                              verifies (a rotation: {@code old,new}, then {@code new,old}, then {@code new})
 */
@Validated
@ConfigurationProperties("dialer.dispatcher.carrier")
public record CarrierProperties(
        @DefaultValue("http://127.0.0.1:8090") @NotNull @Pattern(regexp = "^https?://.+") String baseUrl,
        @DefaultValue("dialer") @NotBlank String accountSid,
        String apiKey,
        @DefaultValue("dialer-audio-player") @NotBlank String defaultApplicationSid,
        @Pattern(regexp = "^https?://.+") String callbackUrl,
        String webhookSecret,
        @DefaultValue("PT5S") @NotNull Duration requestTimeout,
        @DefaultValue("PT60S") @NotNull Duration ringTimeout,
        @DefaultValue("PT1H") @NotNull Duration timeLimit,
        @DefaultValue("PT5M") @NotNull Duration signatureTolerance,
        @DefaultValue("false") boolean notifyUrl,
        @DefaultValue("PT10M") @NotNull Duration applicationCheckInterval,
        String tagKeys) {

    public CarrierProperties {
        apiKey = blankToNull(apiKey);
        callbackUrl = blankToNull(callbackUrl);
        webhookSecret = blankToNull(webhookSecret);
        tagKeys = blankToNull(tagKeys);
        requirePositive("request-timeout", requestTimeout);
        requirePositive("ring-timeout", ringTimeout);
        requirePositive("time-limit", timeLimit);
        requirePositive("signature-tolerance", signatureTolerance);
        requirePositive("application-check-interval", applicationCheckInterval);
    }

    /**
     * The same settings for another Voice Gateway endpoint; a {@code null} account sid, API key or notify-url keeps
     * this one's.
     */
    public CarrierProperties withEndpoint(String otherBaseUrl, String otherAccountSid, String otherApiKey,
                                          Boolean otherNotifyUrl) {
        return withEndpoint(otherBaseUrl, otherAccountSid, otherApiKey, otherNotifyUrl, null);
    }

    /**
     * The same settings for another Voice Gateway endpoint; a {@code null} account sid, API key, notify-url or default
     * application sid keeps this one's.
     */
    public CarrierProperties withEndpoint(String otherBaseUrl, String otherAccountSid, String otherApiKey,
                                          Boolean otherNotifyUrl, String otherApplicationSid) {
        String application = blankToNull(otherApplicationSid);
        return new CarrierProperties(otherBaseUrl, otherAccountSid != null ? otherAccountSid : accountSid,
                otherApiKey != null ? otherApiKey : apiKey, application != null ? application : defaultApplicationSid,
                callbackUrl, webhookSecret,
                requestTimeout, ringTimeout, timeLimit, signatureTolerance,
                otherNotifyUrl != null ? otherNotifyUrl : notifyUrl, applicationCheckInterval, tagKeys);
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    private static void requirePositive(String name, Duration value) {
        if (value != null && (value.isNegative() || value.isZero())) {
            throw new IllegalArgumentException("dialer.dispatcher.carrier." + name + " must be positive, was " + value);
        }
    }
}
