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
 * <p>The check runs before every try, and again when the HTTP client resolves the host to connect
 * ({@link GuardedAddressResolverGroup}): the client connects to the very address that was checked, so a DNS answer
 * that changes between the two (DNS rebinding) is caught. A host that does not resolve is let through here; its try
 * then fails to connect like any unreachable endpoint.
 *
 * <p>Plain {@code http://} is refused unless the {@link DeliveryProperties.PlainHttp} policy allows it: by default
 * only for allow-listed hosts (the local stack), so outside it events travel encrypted.
 */
final class TargetGuard {

    /** A host resolved, at connect time, to an address that must not be called. */
    static final class ForbiddenAddressException extends UnknownHostException {
        ForbiddenAddressException(String host) {
            super(host + " resolves to an address that must not be called");
        }
    }

    /** Resolves a host name; blocking. */
    interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    private final AllowList allowList;
    private final Resolver resolver;
    private final DeliveryProperties.PlainHttp plainHttp;

    TargetGuard(AllowList allowList, Resolver resolver) {
        this(allowList, resolver, DeliveryProperties.PlainHttp.ALLOWED);
    }

    TargetGuard(AllowList allowList, Resolver resolver, DeliveryProperties.PlainHttp plainHttp) {
        this.allowList = allowList;
        this.resolver = resolver;
        this.plainHttp = plainHttp;
    }

    static TargetGuard resolvingWithDns(AllowList allowList, DeliveryProperties.PlainHttp plainHttp) {
        return new TargetGuard(allowList, InetAddress::getAllByName, plainHttp);
    }

    /**
     * The addresses a host may be connected to, at connect time; blocking (DNS).
     *
     * @throws UnknownHostException when the host does not resolve, or resolves to an address that must not be called
     */
    InetAddress[] connectable(String host) throws UnknownHostException {
        InetAddress[] addresses = resolver.resolve(host);
        if (allowList.allowsHost(host)) {
            return addresses;
        }
        for (InetAddress address : addresses) {
            if (!permitted(address)) {
                throw new ForbiddenAddressException(host);
            }
        }
        return addresses;
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
        if (isPlainHttp(url) && plainHttp != DeliveryProperties.PlainHttp.ALLOWED
                && !(plainHttp == DeliveryProperties.PlainHttp.ALLOW_LISTED && AllowList.isLiteral(host)
                && allowList.allows(AllowList.literal(host)))) {
            return Mono.just(false);
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

    private static boolean isPlainHttp(String url) {
        return url.trim().regionMatches(true, 0, "http:", 0, 5);
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
