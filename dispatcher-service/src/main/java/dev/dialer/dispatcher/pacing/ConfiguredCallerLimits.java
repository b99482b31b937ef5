package dev.dialer.dispatcher.pacing;

import dev.dialer.dispatcher.policy.AccountCps;
import java.util.OptionalDouble;
import java.util.function.Function;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * Caller-ID rates: the number's configured override, else the account's own setting (from its settings on
 * {@code dialer.account.config}), else the account's configured override, else the default.
 */
@Component
class ConfiguredCallerLimits implements CallerLimits {

    private final PacingProperties properties;
    private final Function<String, OptionalDouble> accountSetting;

    @Autowired
    ConfiguredCallerLimits(PacingProperties properties, AccountCps accountCps) {
        this(properties, accountCps::perCallerId);
    }

    /** Without account settings: configuration alone. */
    ConfiguredCallerLimits(PacingProperties properties) {
        this(properties, account -> OptionalDouble.empty());
    }

    ConfiguredCallerLimits(PacingProperties properties, Function<String, OptionalDouble> accountSetting) {
        this.properties = properties;
        this.accountSetting = accountSetting;
    }

    @Override
    public double callerCps(String accountId, String callerId) {
        Double number = properties.numberCps().get(callerId);
        if (number != null) {
            return number;
        }
        OptionalDouble account = accountSetting.apply(accountId);
        if (account.isPresent()) {
            return account.getAsDouble();
        }
        return properties.accountCallerCps().getOrDefault(accountId, properties.callerCps());
    }

    @Override
    public int callerBurst(String accountId, String callerId) {
        return properties.callerBurst();
    }
}
