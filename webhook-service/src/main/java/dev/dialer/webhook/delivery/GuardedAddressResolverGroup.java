package dev.dialer.webhook.delivery;

import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.InetNameResolver;
import io.netty.resolver.InetSocketAddressResolver;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;

/**
 * The HTTP client's name resolution, checked by the {@link TargetGuard}: a host is resolved once, its addresses are
 * checked, and the client connects to one of those very addresses. A host whose DNS answer turned internal after the
 * check before the try (DNS rebinding) fails to resolve here. The lookups are the guard's: non-blocking, each bounded by
 * a timeout ({@link HostLookups}, {@link DnsLookups}).
 */
final class GuardedAddressResolverGroup extends AddressResolverGroup<InetSocketAddress> {

    private final TargetGuard guard;

    GuardedAddressResolverGroup(TargetGuard guard) {
        this.guard = guard;
    }

    @Override
    protected AddressResolver<InetSocketAddress> newResolver(EventExecutor executor) {
        return new InetSocketAddressResolver(executor, new CheckedNameResolver(executor));
    }

    private final class CheckedNameResolver extends InetNameResolver {

        CheckedNameResolver(EventExecutor executor) {
            super(executor);
        }

        @Override
        protected void doResolve(String host, Promise<InetAddress> promise) {
            guard.connectable(host).subscribe(addresses -> promise.trySuccess(addresses[0]), promise::tryFailure);
        }

        @Override
        protected void doResolveAll(String host, Promise<List<InetAddress>> promise) {
            guard.connectable(host).subscribe(addresses -> promise.trySuccess(Arrays.asList(addresses)),
                    promise::tryFailure);
        }
    }
}
