package dev.dialer.dispatcher.attempt;

import dev.dialer.dispatcher.lifecycle.BackgroundLoop;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;

/** Runs the {@link LedgerRetention} purge from start-up to shut-down, unless the retention is zero. */
@Component
class LedgerRetentionLifecycle extends BackgroundLoop {

    private final LedgerRetention retention;
    private final LedgerProperties properties;

    LedgerRetentionLifecycle(LedgerRetention retention, LedgerProperties properties) {
        super("ledger purge");
        this.retention = retention;
        this.properties = properties;
    }

    @Override
    protected boolean enabled() {
        return properties.purges();
    }

    @Override
    protected Flux<?> loop() {
        return retention.run();
    }

    @Override
    protected String started() {
        return "ended requests are deleted from the ledger " + properties.retention() + " after their end, looked "
                + "for every " + properties.purgeInterval();
    }
}
