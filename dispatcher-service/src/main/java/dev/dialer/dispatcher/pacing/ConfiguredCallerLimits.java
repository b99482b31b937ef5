package dev.dialer.dispatcher.pacing;

import org.springframework.stereotype.Component;

/** Caller-ID rates from {@link PacingProperties}: the number's override, else the account's, else the default. */
@Component
class ConfiguredCallerLimits implements CallerLimits {

    private final PacingProperties properties;

    ConfiguredCallerLimits(PacingProperties properties) {
        this.properties = properties;
    }

    @Override
    public double callerCps(String accountId, String callerId) {
        Double number = properties.numberCps().get(callerId);
        if (number != null) {
            return number;
        }
        return properties.accountCallerCps().getOrDefault(accountId, properties.callerCps());
    }

    @Override
    public int callerBurst(String accountId, String callerId) {
        return properties.callerBurst();
    }
}
