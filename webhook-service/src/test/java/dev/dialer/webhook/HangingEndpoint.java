package dev.dialer.webhook;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A real HTTP endpoint that reads each request and answers nothing until {@link #release()}, then 200; it counts the
 * requests whose connection the client closed before they were answered ({@link #givenUp()}: a try that timed out).
 */
final class HangingEndpoint implements AutoCloseable {

    private final Sinks.Empty<Void> released = Sinks.empty();
    private final AtomicInteger received = new AtomicInteger();
    private final AtomicInteger answered = new AtomicInteger();
    private final AtomicInteger givenUp = new AtomicInteger();
    private final DisposableServer server;

    HangingEndpoint() {
        server = HttpServer.create()
                .host("127.0.0.1")
                .port(0)
                .handle((request, response) -> {
                    AtomicBoolean answering = new AtomicBoolean();
                    response.withConnection(connection -> connection.onDispose(() -> {
                        if (!answering.get()) {
                            givenUp.incrementAndGet();
                        }
                    }));
                    return request.receive().then()
                            .doOnSuccess(ignored -> received.incrementAndGet())
                            .then(released.asMono())
                            .then(Mono.defer(() -> {
                                answering.set(true);
                                answered.incrementAndGet();
                                return response.status(200).send().then();
                            }));
                })
                .bindNow();
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.port() + "/" + path;
    }

    void release() {
        released.tryEmitEmpty();
    }

    int received() {
        return received.get();
    }

    int answered() {
        return answered.get();
    }

    /** Requests whose connection closed before they were answered: the client gave up on them. */
    int givenUp() {
        return givenUp.get();
    }

    @Override
    public void close() {
        release();
        server.disposeNow();
    }
}
