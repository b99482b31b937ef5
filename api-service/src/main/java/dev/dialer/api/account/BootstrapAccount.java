package dev.dialer.api.account;

import dev.dialer.api.ApiProperties;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.stereotype.Component;

/** Creates the configured account and key at start-up ({@code dialer.api.bootstrap.*}), so a fresh stack is usable. */
@Component
class BootstrapAccount implements ApplicationRunner {

    private static final Logger log = LoggerFactory.getLogger(BootstrapAccount.class);

    private final Accounts accounts;
    private final ApiProperties properties;

    BootstrapAccount(Accounts accounts, ApiProperties properties) {
        this.accounts = accounts;
        this.properties = properties;
    }

    @Override
    public void run(ApplicationArguments args) {
        ApiProperties.Bootstrap bootstrap = properties.bootstrap();
        if (bootstrap == null || bootstrap.accountId() == null || bootstrap.accountId().isBlank()
                || bootstrap.apiKey() == null || bootstrap.apiKey().isBlank()) {
            return;
        }
        String region = bootstrap.defaultRegion() == null ? "IN" : bootstrap.defaultRegion();
        // Start-up, not an event loop: waiting here keeps the service from taking traffic before its account exists.
        accounts.ensure(bootstrap.accountId(), region, bootstrap.apiKey()).block(Duration.ofSeconds(30));
        log.info("bootstrap account '{}' ready (region {})", bootstrap.accountId(), region);
    }
}
