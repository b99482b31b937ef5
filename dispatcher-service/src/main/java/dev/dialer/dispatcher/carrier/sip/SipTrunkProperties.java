package dev.dialer.dispatcher.carrier.sip;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * The SIP trunk carrier: INVITEs straight to a trunk or an SBC in front of it.
 *
 * @param enabled       dial through the SIP trunk instead of the Voice Gateway REST API
 * @param trunkHost     host (name or address) of the trunk or SBC the INVITEs go to
 * @param trunkPort     its SIP port
 * @param transport     {@code udp} or {@code tcp}
 * @param bindAddress   local address the SIP stack listens on (and names in Via, Contact and the SDP)
 * @param bindPort      local SIP port; 0 picks a free one
 * @param fromHost      host part of the From URI; the bind address when absent
 * @param username      digest user name, used only when the trunk challenges (401/407)
 * @param password      digest password
 * @param mediaAddress  address the SDP offer names for media; the bind address when absent (the dialer sends none)
 * @param mediaPort     port the SDP offer names for media
 * @param ringTimeout   how long the callee may ring before we CANCEL, unless the command says otherwise
 * @param timeLimit     longest answered call before we send BYE, unless the command says otherwise
 * @param threads       threads that run SIP work handed over from the stack's listener thread
 * @param dialogLease   how long a call kept in PostgreSQL stays with this process without news from it (renewed every
 *                      third of it): a dispatcher that dies leaves its calls to whoever starts next, or to another
 *                      dispatcher, once this has passed
 * @param silentAfter   INVITEs that get no response at all (Timer B), with no response to anything of ours in between,
 *                      after which the trunk counts as silent: calls are refused at once as unreachable (requeued
 *                      without using an attempt) until it answers something of ours again; 0 never does
 * @param probeInterval how often a silent trunk is sent an OPTIONS, whose answer ends the silence; one call every six
 *                      of them goes through as a trial
 * @param keepTimeout   how long a call may take, from its dial, to have its INVITE built and be kept in PostgreSQL
 *                      before the INVITE leaves: past it the call is not placed and the dial fails as unreachable
 *                      (requeued without using an attempt); shorter than the carrier's request timeout
 *                      ({@code dialer.dispatcher.carrier.routing.guard.timeout}, checked at start), which would
 *                      otherwise leave the attempt's outcome unknown until the watchdog
 * @param t1            SIP's T1 (RFC 3261 §17.1.1.1), the round-trip estimate the transaction timers are made of: a
 *                      request sent over UDP is sent again after T1, 2 × T1… and a request nobody answers gives up
 *                      after 64 × T1 (Timer B for an INVITE, Timer F for the others); so does an INVITE we cancelled
 *                      that gets no final answer. 500 ms as the RFC recommends; raise it for a trunk whose round trip
 *                      is longer
 */
@Validated
@ConfigurationProperties("dialer.dispatcher.carrier.sip")
public record SipTrunkProperties(
        @DefaultValue("false") boolean enabled,
        @DefaultValue("127.0.0.1") @NotBlank String trunkHost,
        @DefaultValue("5060") @Min(1) @Max(65535) int trunkPort,
        @DefaultValue("udp") @NotNull @Pattern(regexp = "udp|tcp") String transport,
        @DefaultValue("127.0.0.1") @NotBlank String bindAddress,
        @DefaultValue("0") @Min(0) @Max(65535) int bindPort,
        String fromHost,
        String username,
        String password,
        String mediaAddress,
        @DefaultValue("40000") @Min(1) @Max(65535) int mediaPort,
        @DefaultValue("PT60S") @NotNull Duration ringTimeout,
        @DefaultValue("PT1H") @NotNull Duration timeLimit,
        @DefaultValue("4") @Min(1) int threads,
        @DefaultValue("PT30S") @NotNull Duration dialogLease,
        @DefaultValue("3") @Min(0) int silentAfter,
        @DefaultValue("PT10S") @NotNull Duration probeInterval,
        @DefaultValue("PT2S") @NotNull Duration keepTimeout,
        @DefaultValue("PT0.5S") @NotNull Duration t1) {

    public SipTrunkProperties {
        fromHost = blankToNull(fromHost);
        username = blankToNull(username);
        password = blankToNull(password);
        mediaAddress = blankToNull(mediaAddress);
        requirePositive("ring-timeout", ringTimeout);
        requirePositive("time-limit", timeLimit);
        requirePositive("dialog-lease", dialogLease);
        requirePositive("probe-interval", probeInterval);
        requirePositive("keep-timeout", keepTimeout);
        requirePositive("t1", t1);
        if (t1.toMillis() < 1 || t1.toMillis() > Integer.MAX_VALUE / 64) {
            throw new IllegalArgumentException("dialer.dispatcher.carrier.sip.t1 must be between 1 ms and about 9 "
                    + "hours: " + t1);
        }
    }

    String fromHostOrBind() {
        return fromHost != null ? fromHost : bindAddress;
    }

    String mediaAddressOrBind() {
        return mediaAddress != null ? mediaAddress : bindAddress;
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    private static void requirePositive(String name, Duration value) {
        if (value != null && (value.isNegative() || value.isZero())) {
            throw new IllegalArgumentException("dialer.dispatcher.carrier.sip." + name + " must be positive, was "
                    + value);
        }
    }
}
