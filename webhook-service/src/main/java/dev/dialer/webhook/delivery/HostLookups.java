package dev.dialer.webhook.delivery;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Host name lookups, kept apart so that a slow name server holds up only the targets behind it; a caller waits at most
 * {@code timeout} for the answer, then the lookup fails ({@link LookupFailedException}).
 *
 * <p>The service asks DNS without blocking ({@link #nonBlocking}, {@link DnsLookups}): a silent name server holds no
 * thread, so no number of targets whose names never answer delays the others' lookups. A blocking resolver (tests,
 * or a resolver of one's own) runs on threads of its own, never on the shared bounded elastic pool; the lookups of one
 * host in flight together share one thread, which goes on waiting for the answer alone after a caller gave up; when
 * every thread is busy and the queue is full, a lookup fails at once.
 */
final class HostLookups {

    private static final Logger log = LoggerFactory.getLogger(HostLookups.class);

    /** A lookup that did not answer in time, or could not start: the try it was for has failed. */
    static final class LookupFailedException extends UnknownHostException {
        LookupFailedException(String message) {
            super(message);
        }
    }

    private final TargetGuard.Resolver resolver;
    private final Duration timeout;
    private final ThreadPoolExecutor threads;
    private final Map<String, CompletableFuture<InetAddress[]>> inFlight = new ConcurrentHashMap<>();
    private final Function<String, Mono<InetAddress[]>> source;

    /** Lookups through a resolver that does not block, each bounded by {@code timeout}. */
    static HostLookups nonBlocking(DnsLookups dns, Duration timeout) {
        return new HostLookups(dns::resolve, timeout);
    }

    private HostLookups(Function<String, Mono<InetAddress[]>> source, Duration timeout) {
        this.resolver = null;
        this.threads = null;
        this.timeout = timeout;
        this.source = source;
    }

    /** Lookups through a blocking resolver, on {@code threadCount} threads of their own. */
    HostLookups(TargetGuard.Resolver resolver, Duration timeout, int threadCount, int queueLimit) {
        this.resolver = resolver;
        this.timeout = timeout;
        // A copy per caller: one caller giving up must not cancel the lookup the others wait for.
        this.source = host -> Mono.defer(() -> Mono.fromFuture(lookup(host).copy()));
        AtomicInteger created = new AtomicInteger();
        this.threads = new ThreadPoolExecutor(threadCount, threadCount, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(queueLimit), task -> {
                    Thread thread = new Thread(task, "webhook-dns-" + created.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
        this.threads.allowCoreThreadTimeOut(true);
    }

    /** The host's addresses; errors with {@link UnknownHostException} (a {@link LookupFailedException} included). */
    Mono<InetAddress[]> resolve(String host) {
        return source.apply(host)
                .timeout(timeout, Mono.error(() -> failed(host, "DNS lookup of " + host + " timed out after "
                        + timeout.toMillis() + " ms")))
                .onErrorMap(CompletionException.class, error -> error.getCause() != null ? error.getCause() : error);
    }

    private CompletableFuture<InetAddress[]> lookup(String host) {
        CompletableFuture<InetAddress[]> mine = new CompletableFuture<>();
        CompletableFuture<InetAddress[]> running = inFlight.putIfAbsent(host, mine);
        if (running != null) {
            return running;
        }
        try {
            threads.execute(() -> answer(host, mine));
        } catch (RejectedExecutionException e) {
            inFlight.remove(host, mine);
            mine.completeExceptionally(failed(host, "DNS lookups saturated: " + threads.getActiveCount()
                    + " in flight, " + threads.getQueue().size() + " queued"));
        }
        return mine;
    }

    private void answer(String host, CompletableFuture<InetAddress[]> future) {
        try {
            future.complete(resolver.resolve(host));
        } catch (Exception e) {
            future.completeExceptionally(e);
        } finally {
            inFlight.remove(host, future);
        }
    }

    static LookupFailedException failed(String host, String message) {
        log.warn("{}: the try fails and is retried per the schedule", message);
        return new LookupFailedException(message);
    }
}
