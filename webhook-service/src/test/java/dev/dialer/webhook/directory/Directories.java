package dev.dialer.webhook.directory;

import dev.dialer.common.kafka.InboundRecord;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Directories fed by a test's own records, for tests outside this package. */
public final class Directories {

    private Directories() {
    }

    /** A directory that applies {@code records} once followed, and is read to now by {@code readToNow}. */
    public static WebhookDirectory of(Supplier<Flux<InboundRecord>> records, Supplier<Mono<Void>> readToNow,
                                      MeterRegistry registry) {
        return new WebhookDirectory(records, Mono.empty(), readToNow, registry, 1_000);
    }
}
