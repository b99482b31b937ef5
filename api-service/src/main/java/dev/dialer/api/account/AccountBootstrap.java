package dev.dialer.api.account;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.boot.sql.init.dependency.DependsOnDatabaseInitialization;
import org.springframework.stereotype.Component;

/**
 * Creates the configured account and registers its key's hash at start-up, idempotently (a restart with the same
 * configuration changes nothing). Runs after the Flyway migration and before the server accepts requests.
 */
@Component
@DependsOnDatabaseInitialization
class AccountBootstrap implements InitializingBean {

    private static final Logger log = LoggerFactory.getLogger(AccountBootstrap.class);
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);

    private final BootstrapProperties properties;
    private final AccountRepository accounts;
    private final ApiKeyAuthentication authentication;

    AccountBootstrap(BootstrapProperties properties, AccountRepository accounts,
                     ApiKeyAuthentication authentication) {
        this.properties = properties;
        this.accounts = accounts;
        this.authentication = authentication;
    }

    @Override
    public void afterPropertiesSet() {
        if (!properties.enabled()) {
            return;
        }
        Account account = properties.account();
        String keyHash = ApiKeys.hash(properties.apiKey().strip());
        // Start-up runs on the main thread, not an event loop: waiting here keeps requests out until it is done.
        String owner = accounts.upsert(account)
                .then(accounts.addKey(account.id(), keyHash, "bootstrap"))
                .block(STARTUP_TIMEOUT);
        if (!account.id().equals(owner)) {
            throw new IllegalStateException("dialer.api.bootstrap.api-key already belongs to another account");
        }
        authentication.registered(keyHash);
        log.info("account {} ready (region {})", account.id(), account.defaultRegion());
    }
}
