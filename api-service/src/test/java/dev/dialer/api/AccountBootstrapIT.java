package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.account.ApiKeys;
import dev.dialer.api.account.Bootstraps;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationContext;

/** The bootstrap account's key, changed in the configuration: the old key stops working, other keys stay. */
class AccountBootstrapIT extends RunningApiService {

    private static final String SETTINGS = "/api/v2/account/settings";

    @Autowired
    ApplicationContext context;

    @Test
    void bootstrappingANewKeyRevokesTheOldBootstrapKeyAndKeepsTheAccountsOtherKeys() throws Exception {
        String account = "it-boot-" + UUID.randomUUID();
        String keyA = ApiKeys.generate();
        String keyB = ApiKeys.generate();
        Bootstraps.run(context, account, keyA);
        assertThat(get(SETTINGS, keyA).statusCode()).isEqualTo(200);
        String otherKey = TestAccounts.ensure(account);

        Bootstraps.run(context, account, keyB);

        assertThat(get(SETTINGS, keyA).statusCode()).isEqualTo(401);
        assertThat(get(SETTINGS, keyB).statusCode()).isEqualTo(200);
        assertThat(get(SETTINGS, otherKey).statusCode()).isEqualTo(200);
    }

    @Test
    void aStartWhileAnotherChangeHoldsTheAccountsRowPastTheLockTimeoutWaitsForItInsteadOfFailing() throws Exception {
        String account = "it-boot-" + UUID.randomUUID();
        String key = ApiKeys.generate();
        Bootstraps.run(context, account, key);
        String newKey = ApiKeys.generate();
        ScheduledExecutorService releaser = Executors.newSingleThreadScheduledExecutor();
        try (Connection other = database()) {
            other.setAutoCommit(false);
            try (PreparedStatement lock = other.prepareStatement(
                    "SELECT 1 FROM api.accounts WHERE id = ? FOR UPDATE")) {
                lock.setString(1, account);
                lock.execute();
            }
            // Held past the start's lock timeout (8 s), as a change waiting for Kafka would hold it.
            ScheduledFuture<?> released = releaser.schedule(() -> {
                other.rollback();
                return null;
            }, 10, TimeUnit.SECONDS);

            Bootstraps.run(context, account, newKey);

            assertThat(released.isDone()).as("the row was held until the start could have its lock").isTrue();
            released.get();
        } finally {
            releaser.shutdownNow();
        }
        assertThat(get(SETTINGS, newKey).statusCode()).isEqualTo(200);
        assertThat(get(SETTINGS, key).statusCode()).isEqualTo(401);
    }

    @Test
    void bootstrappingTheSameKeyAgainChangesNothing() throws Exception {
        String account = "it-boot-" + UUID.randomUUID();
        String key = ApiKeys.generate();
        Bootstraps.run(context, account, key);

        Bootstraps.run(context, account, key);

        assertThat(get(SETTINGS, key).statusCode()).isEqualTo(200);
    }
}
