package dev.dialer.api.account;

import org.springframework.context.ApplicationContext;

/** Runs the start-up bootstrap again, with another account and key, against a running context's beans. */
public final class Bootstraps {

    private Bootstraps() {
    }

    public static void run(ApplicationContext context, String accountId, String apiKey) {
        new AccountBootstrap(new BootstrapProperties(accountId, null, apiKey, "IN"),
                context.getBean(AccountRepository.class), context.getBean(ApiKeyAuthentication.class))
                .afterPropertiesSet();
    }
}
