package dev.dialer.dispatcher.attempt;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;
import reactor.core.Disposable;

/** Runs the {@link LedgerRetention} purge from start-up to shut-down, unless the retention is zero. */
@Component
class LedgerRetentionLifecycle implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(LedgerRetentionLifecycle.class);

    private final LedgerRetention retention;
    private final LedgerProperties properties;
    private volatile Disposable running;

    LedgerRetentionLifecycle(LedgerRetention retention, LedgerProperties properties) {
        this.retention = retention;
        this.properties = properties;
    }

    @Override
    public synchronized void start() {
        if (properties.purges() && running == null) {
            running = retention.run().subscribe(null, error -> log.error("ledger purge stopped", error));
            log.info("ended requests are deleted from the ledger {} after their end, looked for every {}",
                    properties.retention(), properties.purgeInterval());
        }
    }

    @Override
    public synchronized void stop() {
        if (running != null) {
            running.dispose();
            running = null;
        }
    }

    @Override
    public boolean isRunning() {
        return running != null && !running.isDisposed();
    }
}
