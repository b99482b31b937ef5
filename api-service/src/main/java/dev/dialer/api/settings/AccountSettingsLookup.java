package dev.dialer.api.settings;

import dev.dialer.common.contract.AccountSettings;
import reactor.core.publisher.Mono;

/** Where the send paths read an account's settings; {@link AccountSettingsStore} in the service. */
@FunctionalInterface
public interface AccountSettingsLookup {

    /** The account's settings, {@link AccountSettings#defaults} when it wrote none. */
    Mono<AccountSettings> of(String accountId);
}
