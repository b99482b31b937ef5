package dev.dialer.dispatcher.policy;

import java.util.OptionalDouble;
import org.springframework.stereotype.Component;

/**
 * An account's own calls-per-second limit per caller ID, from its settings on {@code dialer.account.config}; for the
 * pacer, which falls back to its configured default when the account set none. The pacer asks at each start it
 * decides, so a change applies to lanes already running; it is asked only once the settings are read in full (no
 * command is consumed before that, {@link PolicyViewsLifecycle#readInFull}), since until then an account's settings
 * look absent.
 */
@Component
public class AccountCps {

    private final PolicyViews views;

    AccountCps(PolicyViews views) {
        this.views = views;
    }

    /** The account's CPS per caller ID; empty when its settings name none. */
    public OptionalDouble perCallerId(String accountId) {
        Double cps = views.settingsOf(accountId).cpsPerCallerId();
        return cps == null || cps <= 0 ? OptionalDouble.empty() : OptionalDouble.of(cps);
    }
}
