package dev.dialer.api.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;

/** A transaction whose records Kafka may already have is never rolled back because its caller went away. */
class PublishingTransactionsTest {

    private final List<String> happened = new CopyOnWriteArrayList<>();
    private final ReactiveTransactionManager manager = new RecordingTransactionManager(happened);

    /** The write, then the publish that takes a while to be acknowledged. */
    private Mono<String> work() {
        return Mono.fromRunnable(() -> happened.add("written"))
                .then(Mono.delay(Duration.ofMillis(200)))
                .doOnNext(acknowledged -> happened.add("published"))
                .thenReturn("done");
    }

    @Test
    void aTransactionWhoseCallerCancelsRunsToItsCommit() {
        PublishingTransactions transactions = PublishingTransactions.create(manager);

        transactions.transactional(work()).subscribe().dispose();

        await().atMost(Duration.ofSeconds(5)).until(() -> happened.contains("commit"));
        assertThat(happened).containsExactly("begin", "written", "published", "commit");
    }

    @Test
    void whatItGuardsAgainstAPlainTransactionRollsBackWhenItsCallerCancels() {
        TransactionalOperator plain = TransactionalOperator.create(manager);

        work().as(plain::transactional).subscribe().dispose();

        await().atMost(Duration.ofSeconds(5)).until(() -> happened.contains("rollback"));
        assertThat(happened).containsExactly("begin", "written", "rollback");
    }

    @Test
    void theOutcomeReachesACallerThatWaits() {
        PublishingTransactions transactions = PublishingTransactions.create(manager);

        assertThat(transactions.transactional(work()).block(Duration.ofSeconds(5))).isEqualTo("done");
        assertThat(transactions.transactional(Mono.error(new IllegalStateException("refused")))
                .onErrorResume(error -> Mono.just(error.getMessage())).block(Duration.ofSeconds(5)))
                .isEqualTo("refused");
        assertThat(happened).containsExactly("begin", "written", "published", "commit", "begin", "rollback");
    }
}
