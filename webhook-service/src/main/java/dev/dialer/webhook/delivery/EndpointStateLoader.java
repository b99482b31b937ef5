package dev.dialer.webhook.delivery;

import reactor.core.publisher.Mono;

/** Reads the durable endpoint state ({@link EndpointHealth}) before the pipelines deliver anything. */
public final class EndpointStateLoader {

    private final EndpointHealth health;

    EndpointStateLoader(EndpointHealth health) {
        this.health = health;
    }

    public Mono<Void> load() {
        return health.load();
    }
}
