package dev.dialer.api.send;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.api.kafka.RecordingTransactionManager;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** The claims' transaction is never rolled back because the client hung up: Kafka may have the commands by then. */
class ForeignIdsTest {

    private final List<String> happened = new CopyOnWriteArrayList<>();

    /** The claims as made, without a database: the transaction around them is what is under test. */
    private final ForeignIds foreignIds = new ForeignIds(null, new RecordingTransactionManager(happened)) {
        @Override
        Mono<Map<String, ForeignIdClaims.Owner>> claim(String accountId, List<ForeignIdClaims.Claim> given) {
            return Mono.fromSupplier(() -> {
                happened.add("claimed");
                return Map.of();
            });
        }
    };

    @Test
    void claimsWhoseSendTheClientAbandonsAfterProducingAreCommitted() {
        List<ForeignIdClaims.Claim> claims = List.of(new ForeignIdClaims.Claim("crm-1", "+919876543215", "request-1", null));

        foreignIds.claimThen("acme", claims, owners -> Mono.delay(Duration.ofMillis(200))
                        .doOnNext(acknowledged -> happened.add("produced"))
                        .thenReturn("answer"))
                .subscribe()
                .dispose();

        await().atMost(Duration.ofSeconds(5)).until(() -> happened.contains("commit") || happened.contains("rollback"));
        assertThat(happened).containsExactly("begin", "claimed", "produced", "commit");
    }

    @Test
    void claimsOfASendThatFailedAreRolledBack() {
        List<ForeignIdClaims.Claim> claims = List.of(new ForeignIdClaims.Claim("crm-1", "+919876543215", "request-1", null));

        Mono<String> failed = foreignIds.claimThen("acme", claims,
                owners -> Mono.error(new IllegalStateException("Kafka refused the records")));

        assertThat(failed.onErrorResume(error -> Mono.just(error.getMessage())).block(Duration.ofSeconds(5)))
                .isEqualTo("Kafka refused the records");
        assertThat(happened).containsExactly("begin", "claimed", "rollback");
    }
}
