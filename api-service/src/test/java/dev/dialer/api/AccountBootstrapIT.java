package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.account.ApiKeys;
import dev.dialer.api.account.Bootstraps;
import java.util.UUID;
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
    void bootstrappingTheSameKeyAgainChangesNothing() throws Exception {
        String account = "it-boot-" + UUID.randomUUID();
        String key = ApiKeys.generate();
        Bootstraps.run(context, account, key);

        Bootstraps.run(context, account, key);

        assertThat(get(SETTINGS, key).statusCode()).isEqualTo(200);
    }
}
