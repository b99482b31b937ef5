package dev.dialer.webhook.delivery;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Refuses targets that would turn a customer-supplied URL into a way into our own network (SSRF): anything but
 * http(s), and hosts that resolve to a loopback, private (RFC 1918, IPv6 unique-local), link-local (cloud metadata
 * at 169.254.169.254 included) or unspecified address, unless the host or the address is on the {@link AllowList}.
 * A host with several addresses is refused when any of them is refused.
 *
 * <p>The check runs before every attempt, not at connect time: a host whose DNS answer changes between the check and
 * the connection (DNS rebinding) is not caught. A host that does not resolve is let through; its attempt then fails
 * to connect like any unreachable endpoint.
 */
final class TargetGuard {

    /** Resolves a host name; blocking. */
    interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    private final AllowList allowList;
    private final Resolver resolver;

    TargetGuard(AllowList allowList, Resolver resolver) {
        this.allowList = allowList;
        this.resolver = resolver;
    }

    static TargetGuard resolvingWithDns(AllowList allowList) {
        return new TargetGuard(allowList, InetAddress::getAllByName);
    }

    /** Completes with whether the URL may be called. DNS resolution runs on the bounded elastic scheduler. */
    Mono<Boolean> permits(String url) {
        String host = httpHost(url);
        if (host == null) {
            return Mono.just(false);
        }
        if (allowList.allowsHost(host)) {
            return Mono.just(true);
        }
        if (AllowList.isLiteral(host)) {
            return Mono.fromCallable(() -> permitted(AllowList.literal(host)))
                    .onErrorReturn(IllegalArgumentException.class, false);
        }
        return Mono.fromCallable(() -> permittedAll(host))
                .subscribeOn(Schedulers.boundedElastic());
    }

    private boolean permittedAll(String host) {
        try {
            for (InetAddress address : resolver.resolve(host)) {
                if (!permitted(address)) {
                    return false;
                }
            }
            return true;
        } catch (UnknownHostException e) {
            return true;
        }
    }

    private boolean permitted(InetAddress address) {
        return allowList.allows(address) || !isInternal(address);
    }

    /** Loopback, private, unique-local, link-local or unspecified. */
    static boolean isInternal(InetAddress address) {
        return address.isLoopbackAddress() || address.isAnyLocalAddress() || address.isLinkLocalAddress()
                || address.isSiteLocalAddress() || isUniqueLocal(address) || isZeroNetwork(address);
    }

    private static boolean isUniqueLocal(InetAddress address) {
        return address instanceof Inet6Address && (address.getAddress()[0] & 0xFE) == 0xFC;
    }

    /** 0.0.0.0/8: "this network", which some stacks route to the local host. */
    private static boolean isZeroNetwork(InetAddress address) {
        return address.getAddress().length == 4 && address.getAddress()[0] == 0;
    }

    /** The host of an absolute http(s) URL, without IPv6 brackets; null for anything else. */
    private static String httpHost(String url) {
        try {
            URI uri = URI.create(url.trim());
            String scheme = uri.getScheme();
            if (scheme == null || !scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")
                    || uri.getHost() == null || uri.getHost().isEmpty()) {
                return null;
            }
            String host = uri.getHost();
            return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
