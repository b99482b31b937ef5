package dev.dialer.dispatcher.carrier.routing;

import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Several carriers and the rules that pick them. Without {@code carriers}, the dispatcher dials through the single
 * carrier of {@code dialer.dispatcher.carrier} (or its SIP trunk).
 *
 * @param carriers   Voice Gateway endpoints by name; the name {@value #SIP} stands for the SIP trunk carrier when it
 *                   is enabled and need not be listed
 * @param order      the carriers to try, in order, when no rule below matches
 * @param accounts   per account id, the carriers to try in order
 * @param prefixes   per E.164 number prefix of the callee (longest wins; write keys as {@code "[+49]"}), the carriers
 *                   to try in order
 * @param guard      timeout, circuit breaker and bulkhead, the same settings for each carrier (each has its own)
 */
@Validated
@ConfigurationProperties("dialer.dispatcher.carrier.routing")
public record CarrierRoutingProperties(
        @Valid Map<String, Endpoint> carriers,
        List<String> order,
        Map<String, List<String>> accounts,
        Map<String, List<String>> prefixes,
        @Valid @NotNull @DefaultValue Guard guard) {

    /** The route name of the SIP trunk carrier. */
    public static final String SIP = "sip";

    public CarrierRoutingProperties {
        carriers = carriers == null ? Map.of() : new LinkedHashMap<>(carriers);
        order = order == null || order.isEmpty() ? List.copyOf(carriers.keySet()) : List.copyOf(order);
        accounts = accounts == null ? Map.of() : Map.copyOf(accounts);
        prefixes = prefixes == null ? Map.of() : Map.copyOf(prefixes);
    }

    /** Whether routing over several carriers is configured at all. */
    public boolean enabled() {
        return !carriers.isEmpty();
    }

    /**
     * One Voice Gateway endpoint; what is not given here comes from {@code dialer.dispatcher.carrier}.
     *
     * @param baseUrl       the gateway's API root
     * @param accountSid    account sid in its paths
     * @param apiKey        bearer token
     * @param webhookSecret the account's webhook secret, which signs its callbacks, when it is not the default one
     * @param notifyUrl     whether this endpoint, a Cognigy Voice Gateway, gets the status hook as {@code notifyUrl}
     *                      too, when it is not as {@code dialer.dispatcher.carrier.notify-url} says
     * @param applicationSid the application a call without a {@code flow_id} of its own runs on this endpoint, when it
     *                      is not {@code dialer.dispatcher.carrier.default-application-sid}: an application sid is a
     *                      key of one jambonz database, and a backup on another account or cluster holds its own
     */
    public record Endpoint(@NotNull @Pattern(regexp = "^https?://.+") String baseUrl, String accountSid,
                           String apiKey, String webhookSecret, Boolean notifyUrl, String applicationSid) {
    }

    /**
     * Per-carrier protection: each carrier gets its own breaker and bulkhead with these settings.
     *
     * @param timeout              longest create-call request before it counts as a timeout; longer than the
     *                             Voice Gateway's own {@code carrier.request-timeout} (5 s), whose timeout tells a
     *                             request never sent (unreachable: failed over) from one maybe placed; a Voice
     *                             Gateway's is made that and one second when it is not ({@link RoutingCarriers})
     * @param maxConcurrentCalls   create-call requests in flight at once (more are refused at once, never queued)
     * @param failureRateThreshold percentage of technical failures that opens the breaker
     * @param minimumCalls         requests seen before the failure rate counts
     * @param openFor              how long an open breaker refuses before letting a few requests probe
     * @param probeIdleAfter       how long a carrier (a Voice Gateway, the SIP trunk) may go without a request of this
     *                             dialer before it is asked whether it answers at all, through its breaker (decision
     *                             0165); zero never asks
     */
    public record Guard(@DefaultValue("PT6S") @NotNull Duration timeout,
                        @DefaultValue("200") @Min(1) int maxConcurrentCalls,
                        @DefaultValue("50") @DecimalMin("1") @DecimalMax("100") float failureRateThreshold,
                        @DefaultValue("10") @Min(1) int minimumCalls,
                        @DefaultValue("PT30S") @NotNull Duration openFor,
                        @DefaultValue("PT5S") @NotNull Duration probeIdleAfter) {
    }

    static void requireKnown(String where, List<String> names, Map<String, ?> known, boolean sipEnabled) {
        for (String name : names) {
            if (!known.containsKey(name) && !(SIP.equals(name) && sipEnabled)) {
                throw new IllegalArgumentException("dialer.dispatcher.carrier.routing." + where + " names carrier '"
                        + name + "', which is not configured");
            }
        }
    }

    /** Every rule names configured carriers only; fails start-up otherwise. */
    public void validate(boolean sipEnabled) {
        requireKnown("order", order, carriers, sipEnabled);
        accounts.forEach((account, names) -> requireKnown("accounts." + account, names, carriers, sipEnabled));
        prefixes.forEach((prefix, names) -> requireKnown("prefixes." + prefix, names, carriers, sipEnabled));
    }
}
