package dev.dialer.api.account;

import dev.dialer.common.db.RefusedStatements;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.InitializingBean;
import org.springframework.boot.sql.init.dependency.DependsOnDatabaseInitialization;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Creates the configured account and registers its key's hash at start-up, idempotently (a restart with the same
 * configuration changes nothing). Runs after the Flyway migration and before the server accepts requests. The
 * account's other bootstrap keys are deleted, so changing {@code dialer.api.bootstrap.api-key} revokes the old key;
 * keys the account got otherwise stay. An instance that verified the old key less than
 * {@code dialer.api.auth.cache-ttl} ago still accepts it until then.
 */
@Component
@DependsOnDatabaseInitialization
class AccountBootstrap implements InitializingBean {

    private static final Logger log = LoggerFactory.getLogger(AccountBootstrap.class);
    private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
    /**
     * Deadlock, serialization failure, and a lock not granted within {@code lock_timeout} (8 s): another change of
     * the account holds its rows (a webhook or subscription created while Kafka is slow holds the account's row
     * until Kafka answers). Tried again rather than failing the start, four tries in all (some 40 s).
     */
    private static final Set<String> CONTENDED = Set.of("40P01", "40001", "55P03");
    private static final int TRIES = 4;
    private static final String LABEL = "bootstrap";

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
        String owner = uncontended(account, accounts.upsert(account)
                .then(accounts.addKey(account.id(), keyHash, LABEL)))
                .block(STARTUP_TIMEOUT);
        if (!account.id().equals(owner)) {
            throw new IllegalStateException("dialer.api.bootstrap.api-key already belongs to another account");
        }
        authentication.registered(keyHash);
        List<String> revoked = uncontended(account, accounts.removeOtherKeys(account.id(), LABEL, keyHash)
                .collectList())
                .block(STARTUP_TIMEOUT);
        revoked.forEach(authentication::revoked);
        if (!revoked.isEmpty()) {
            log.info("account {}: {} earlier bootstrap key(s) revoked", account.id(), revoked.size());
        }
        log.info("account {} ready (region {})", account.id(), account.defaultRegion());
    }

    /** {@code work} (idempotent) tried again while another change holds the account's rows ({@link #CONTENDED}). */
    private static <T> Mono<T> uncontended(Account account, Mono<T> work) {
        return work.retryWhen(Retry.backoff(TRIES - 1, Duration.ofSeconds(1))
                .filter(error -> CONTENDED.contains(RefusedStatements.sqlState(error)))
                .doBeforeRetry(signal -> log.warn("account {}: another change holds its rows ({}); trying again",
                        account.id(), RefusedStatements.answer(signal.failure())))
                .onRetryExhaustedThrow((spec, signal) -> signal.failure()));
    }
}
