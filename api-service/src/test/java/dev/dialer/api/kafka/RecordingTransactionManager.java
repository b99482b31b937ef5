package dev.dialer.api.kafka;

import java.util.List;
import org.springframework.transaction.ReactiveTransaction;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import reactor.core.publisher.Mono;

/** A transaction manager that notes when a transaction begins and how it ends, in {@code happened}. */
public record RecordingTransactionManager(List<String> happened) implements ReactiveTransactionManager {
    @Override
    public Mono<ReactiveTransaction> getReactiveTransaction(TransactionDefinition definition) {
        return Mono.fromSupplier(() -> {
            happened.add("begin");
            return new ReactiveTransaction() {
                @Override
                public boolean isNewTransaction() {
                    return true;
                }

                @Override
                public void setRollbackOnly() {
                }

                @Override
                public boolean isRollbackOnly() {
                    return false;
                }

                @Override
                public boolean isCompleted() {
                    return false;
                }
            };
        });
    }

    @Override
    public Mono<Void> commit(ReactiveTransaction transaction) {
        return Mono.fromRunnable(() -> happened.add("commit"));
    }

    @Override
    public Mono<Void> rollback(ReactiveTransaction transaction) {
        return Mono.fromRunnable(() -> happened.add("rollback"));
    }
}
