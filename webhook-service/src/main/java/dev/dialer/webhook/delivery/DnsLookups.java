package dev.dialer.webhook.delivery;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import io.netty.resolver.dns.DnsServerAddressStreamProvider;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import reactor.core.publisher.Mono;

/**
 * Host name lookups that hold no thread while a name server is silent: Netty's DNS resolver sends the queries from one
 * event loop and answers them as replies (or their timeouts) arrive, so a thousand targets whose names never answer
 * cost a thousand pending queries, not a thousand waiting threads, and every other target's lookup goes out and comes
 * back meanwhile. It reads the system's name servers, search domains and {@code /etc/hosts} as the JDK's resolver
 * does, and caches answers for their TTL, at most {@link #MAX_CACHED} ({@link #DnsLookups(UnaryOperator, Duration)}).
 *
 * <p>A name that does not exist errors with {@link UnknownHostException}; a lookup that no name server answered in
 * time with {@link HostLookups.LookupFailedException} (the try fails and is retried), as {@link HostLookups} reports it.
 */
final class DnsLookups implements AutoCloseable {

    /**
     * The longest an answer is kept, whatever its TTL says: Netty's cache has no bound of its own and keeps each answer
     * for its TTL, so a host per call (a {@code notifyUrl} of {@code <call>.hooks.example.com}) answered by a name
     * server with a year's TTL kept an entry, and a timer, a call for a year. Bounded so, the cache holds the hosts
     * of the last minute.
     */
    static final Duration MAX_CACHED = Duration.ofMinutes(1);

    private final EventLoopGroup loop;
    private final DnsNameResolver resolver;
    /** The lookup of each host under way, shared by everyone who asks for it meanwhile. */
    private final java.util.Map<String, Mono<InetAddress[]>> inFlight = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Asks the system's name servers, each query waiting as long as the system's resolver configuration says
     * ({@code options timeout} in {@code /etc/resolv.conf}), so a silent first name server is left for the next in
     * the time the system's resolver would leave it. The caller bounds the lookup as a whole ({@link HostLookups}).
     */
    DnsLookups() {
        this(builder -> builder.nameServerProvider(DnsServerAddressStreamProviders.platformDefault()), MAX_CACHED);
    }

    /**
     * For tests: the name servers to ask for a host, each query's timeout, and no search domains (the host's own
     * would otherwise be tried after a name that does not exist).
     */
    DnsLookups(Duration queryTimeout, DnsServerAddressStreamProvider servers) {
        this(queryTimeout, servers, MAX_CACHED);
    }

    /** For tests: as above, answers kept at most {@code maxCached}. */
    DnsLookups(Duration queryTimeout, DnsServerAddressStreamProvider servers, Duration maxCached) {
        this(builder -> builder.nameServerProvider(servers)
                .queryTimeoutMillis(Math.max(1, queryTimeout.toMillis()))
                .searchDomains(List.of()), maxCached);
    }

    private DnsLookups(UnaryOperator<DnsNameResolverBuilder> configuration, Duration maxCached) {
        this.loop = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("webhook-dns", true),
                NioIoHandler.newFactory());
        this.resolver = configuration.apply(new DnsNameResolverBuilder(loop.next())
                        .datagramChannelType(NioDatagramChannel.class)
                        .ttl(0, (int) Math.max(1, maxCached.toSeconds())))
                .build();
    }

    /**
     * The host's addresses, as {@link HostLookups#resolve} answers them (without its own timeout). Callers asking for
     * a host while its lookup runs share that lookup, which is given up once none of them waits any more: a burst of
     * deliveries to one host behind a silent name server makes one query, not one each, and none outlives its callers.
     */
    Mono<InetAddress[]> resolve(String host) {
        return Mono.defer(() -> inFlight.computeIfAbsent(host, this::shared));
    }

    private Mono<InetAddress[]> shared(String host) {
        java.util.concurrent.atomic.AtomicReference<Mono<InetAddress[]>> self =
                new java.util.concurrent.atomic.AtomicReference<>();
        Mono<InetAddress[]> lookup = query(host)
                .doFinally(signal -> inFlight.remove(host, self.get()))
                .flux()
                .share() // one subscription upstream while anyone waits; cancelled when the last caller leaves
                .next();
        self.set(lookup);
        return lookup;
    }

    private Mono<InetAddress[]> query(String host) {
        return Mono.create(sink -> {
            io.netty.util.concurrent.Future<List<InetAddress>> answer = resolver.resolveAll(host);
            sink.onCancel(() -> answer.cancel(false));
            answer.addListener(done -> {
                if (done.isSuccess()) {
                    @SuppressWarnings("unchecked")
                    List<InetAddress> addresses = (List<InetAddress>) done.getNow();
                    sink.success(addresses.toArray(InetAddress[]::new));
                } else if (!done.isCancelled()) {
                    sink.error(failure(host, done.cause()));
                }
            });
        });
    }

    /**
     * A name that does not exist stays unknown; a name server that did not answer is a failed lookup. The failure's
     * message reaches the account's delivery log, so it names the host only: Netty's own (the name server's address
     * and port, the query) is about the service's network, and is only logged.
     */
    private static Throwable failure(String host, Throwable cause) {
        for (Throwable c = cause; c != null; c = c.getCause()) {
            if (c instanceof DnsNameResolverTimeoutException) {
                return HostLookups.failed(host, "DNS lookup of " + host + " got no answer", c.getMessage());
            }
        }
        if (cause instanceof UnknownHostException unknown) {
            return unknown;
        }
        return HostLookups.failed(host, "DNS lookup of " + host + " failed", cause.toString());
    }

    @Override
    public void close() {
        resolver.close();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
