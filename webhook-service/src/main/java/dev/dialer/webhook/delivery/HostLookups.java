package dev.dialer.webhook.delivery;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Host name lookups, each bounded: a caller waits at most {@code timeout} for the answer, then the lookup fails
 * ({@link LookupFailedException}) and the try it was for fails with it, to be retried. The service asks DNS without
 * blocking ({@link #nonBlocking}, {@link DnsLookups}): a silent name server holds no thread, so no number of targets
 * whose names never answer delays the others' lookups.
 */
final class HostLookups {

    private static final Logger log = LoggerFactory.getLogger(HostLookups.class);

    /** A lookup that did not answer in time, or could not start: the try it was for has failed. */
    static final class LookupFailedException extends UnknownHostException {
        LookupFailedException(String message) {
            super(message);
        }
    }

    private final Duration timeout;
    private final Function<String, Mono<InetAddress[]>> source;

    /** Lookups through a resolver that does not block, each bounded by {@code timeout}. */
    static HostLookups nonBlocking(DnsLookups dns, Duration timeout) {
        return new HostLookups(dns::resolve, timeout);
    }

    /** @param source a host's addresses, without blocking the subscriber; errors with {@link UnknownHostException} */
    HostLookups(Function<String, Mono<InetAddress[]>> source, Duration timeout) {
        this.timeout = timeout;
        this.source = source;
    }

    /** The host's addresses; errors with {@link UnknownHostException} (a {@link LookupFailedException} included). */
    Mono<InetAddress[]> resolve(String host) {
        return Mono.defer(() -> source.apply(host))
                .timeout(timeout, Mono.error(() -> failed(host, "DNS lookup of " + host + " timed out after "
                        + timeout.toMillis() + " ms", null)));
    }

    /**
     * @param message what the delivery log says of it (the account reads it): the host, nothing of the service's
     *                network
     * @param detail  what else is known, for the service's log only, or null
     */
    static LookupFailedException failed(String host, String message, String detail) {
        log.warn("{}{}: the try fails and is retried per the schedule", message, detail == null ? "" : " (" + detail
                + ")");
        return new LookupFailedException(message);
    }
}
