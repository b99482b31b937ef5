package dev.dialer.webhook.delivery;

import dev.dialer.common.hook.AllowList;
import dev.dialer.common.hook.CidrBlock;
import dev.dialer.common.hook.PlainHttpPolicy;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Refuses targets that would turn a customer-supplied URL into a way into our own network (SSRF): anything but
 * http(s), and hosts that resolve to an address that is not public unicast, unless the host or the address is on the
 * {@link AllowList}: loopback, private (RFC 1918, IPv6 unique-local and site-local), shared (100.64.0.0/10, carrier
 * NAT, where some clouds put their metadata service, e.g. 100.100.100.200), link-local (cloud metadata at
 * 169.254.169.254 included), IETF protocol assignments (192.0.0.0/24), benchmarking (198.18.0.0/15), multicast,
 * reserved (240.0.0.0/4, broadcast included), unspecified or "this network" (0.0.0.0/8), local-use NAT64
 * (64:ff9b:1::/48), and IPv6 addresses that carry such an IPv4 address: IPv4-mapped, IPv4-compatible, NAT64
 * (64:ff9b::/96) and 6to4 (2002::/16), which a gateway may turn back into it. A host with several addresses is refused
 * when any of them is refused. An IP literal that does not parse, or an IPv6 literal with a zone id, is refused.
 *
 * <p>The check runs before every try, and again when the HTTP client resolves the host to connect
 * ({@link GuardedAddressResolverGroup}): the client connects to the very address that was checked, so a DNS answer
 * that changes between the two (DNS rebinding) is caught. A host that does not resolve is let through here; its try
 * then fails to connect like any unreachable endpoint. A lookup that does not answer in time fails the try
 * ({@link HostLookups}).
 *
 * <p>Plain {@code http://} is refused unless the {@link PlainHttpPolicy} allows it: by default only for allow-listed
 * hosts (the local stack), so outside it events travel encrypted. api-service refuses such a URL by the same policy
 * where it is given.
 */
final class TargetGuard {

    /** A host resolved, at connect time, to an address that must not be called. */
    static final class ForbiddenAddressException extends UnknownHostException {
        ForbiddenAddressException(String host) {
            super(host + " resolves to an address that must not be called");
        }
    }

    /** IPv4 networks that are not public unicast, beyond what {@link InetAddress} itself recognises. */
    private static final List<CidrBlock> INTERNAL_IPV4 = blocks("0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24",
            "198.18.0.0/15", "240.0.0.0/4");
    /**
     * IPv6 networks that are not public unicast, beyond what {@link InetAddress} itself recognises: unique local,
     * local-use NAT64, discard-only (100::/64), Teredo (2001::/32, whose addresses carry an IPv4 address, obscured,
     * that a relay reaches) and documentation (2001:db8::/32).
     */
    private static final List<CidrBlock> INTERNAL_IPV6 = blocks("fc00::/7", "64:ff9b:1::/48", "100::/64",
            "2001::/32", "2001:db8::/32");
    /**
     * IPv6 networks whose last 32 bits are an IPv4 address: compatible, NAT64, mapped (::ffff:0:0/96, written as
     * bytes since parsing it yields an IPv4 address; an {@link java.net.Inet6Address} can still hold it) and SIIT's
     * IPv4-translated (::ffff:0:0:0/96, RFC 2765).
     */
    private static final List<CidrBlock> IPV4_IN_LAST_32 = List.of(CidrBlock.parse("::/96"),
            CidrBlock.parse("64:ff9b::/96"),
            new CidrBlock(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, 0, 0, 0, 0}, 96),
            new CidrBlock(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xFF, (byte) 0xFF, 0, 0, 0, 0, 0, 0}, 96));
    /** 6to4: the IPv4 address follows the 2002::/16 prefix. */
    private static final CidrBlock SIX_TO_FOUR = CidrBlock.parse("2002::/16");

    private final AllowList allowList;
    private final HostLookups lookups;
    private final PlainHttpPolicy plainHttp;

    TargetGuard(AllowList allowList, HostLookups lookups, PlainHttpPolicy.Mode plainHttp) {
        this.allowList = allowList;
        this.lookups = lookups;
        this.plainHttp = new PlainHttpPolicy(plainHttp, allowList);
    }

    /**
     * Looks hosts up in DNS without blocking ({@link DnsLookups}), each lookup bounded by {@code lookupTimeout} (see
     * {@link HostLookups}).
     */
    static TargetGuard resolvingWithDns(AllowList allowList, PlainHttpPolicy.Mode plainHttp,
                                        DnsLookups dns, Duration lookupTimeout) {
        return new TargetGuard(allowList, HostLookups.nonBlocking(dns, lookupTimeout), plainHttp);
    }

    /**
     * The addresses a host may be connected to, at connect time. Errors with {@link UnknownHostException} when the
     * host does not resolve in time, or resolves to an address that must not be called
     * ({@link ForbiddenAddressException}).
     */
    Mono<InetAddress[]> connectable(String host) {
        return lookups.resolve(host).handle((addresses, sink) -> {
            if (!allowList.allowsHost(host) && !Arrays.stream(addresses).allMatch(this::permitted)) {
                sink.error(new ForbiddenAddressException(host));
                return;
            }
            sink.next(addresses);
        });
    }

    /**
     * Completes with whether the URL may be called; errors with {@link HostLookups.LookupFailedException} when its
     * host's DNS lookup did not answer in time (a failed try of the target, not a refusal).
     */
    Mono<Boolean> permits(String url) {
        String host = httpHost(url);
        if (host == null) {
            return Mono.just(false);
        }
        if (isPlainHttp(url) && !plainHttp.allowsHttpTo(host)) {
            return Mono.just(false);
        }
        if (allowList.allowsHost(host)) {
            return Mono.just(true);
        }
        InetAddress literal = AllowList.isLiteral(host) ? literalOrNull(host) : null;
        if (AllowList.isLiteral(host) && literal == null) {
            return Mono.just(false);
        }
        if (literal != null) {
            return Mono.just(permitted(literal));
        }
        return lookups.resolve(host)
                .map(addresses -> Arrays.stream(addresses).allMatch(this::permitted))
                // Does not resolve: let through, its try fails to connect like any unreachable endpoint.
                .onErrorResume(error -> error instanceof UnknownHostException
                        && !(error instanceof HostLookups.LookupFailedException), error -> Mono.just(true));
    }

    /**
     * The address of an IP literal host, or null when it is not one: a malformed literal, or an IPv6 one with a zone
     * id ({@code fe80::1%25eth0}), which names an interface of this machine and so is never a place to deliver to.
     */
    private static InetAddress literalOrNull(String host) {
        if (host.indexOf('%') >= 0) {
            return null;
        }
        try {
            return AllowList.literal(host);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private boolean permitted(InetAddress address) {
        return allowList.allows(address) || !isInternal(address);
    }

    /** Any address that is not public unicast (see the class comment), an IPv4 one carried in IPv6 included. */
    static boolean isInternal(InetAddress address) {
        if (address.isLoopbackAddress() || address.isAnyLocalAddress() || address.isLinkLocalAddress()
                || address.isSiteLocalAddress() || address.isMulticastAddress()) {
            return true;
        }
        byte[] bytes = address.getAddress();
        if (bytes.length == 4) {
            return inAny(INTERNAL_IPV4, bytes);
        }
        byte[] carried = carriedIpv4(bytes);
        return inAny(INTERNAL_IPV6, bytes) || carried != null && isInternal(ipv4(carried));
    }

    /** The IPv4 address an IPv6 one carries (mapped, translated, compatible, NAT64 or 6to4), or null. */
    private static byte[] carriedIpv4(byte[] ipv6) {
        if (inAny(IPV4_IN_LAST_32, ipv6)) {
            return Arrays.copyOfRange(ipv6, 12, 16);
        }
        return SIX_TO_FOUR.contains(ipv6) ? Arrays.copyOfRange(ipv6, 2, 6) : null;
    }

    private static InetAddress ipv4(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("four bytes are an IPv4 address", e);
        }
    }

    private static boolean inAny(List<CidrBlock> blocks, byte[] address) {
        return blocks.stream().anyMatch(block -> block.contains(address));
    }

    private static List<CidrBlock> blocks(String... cidrs) {
        return Arrays.stream(cidrs).map(CidrBlock::parse).toList();
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
