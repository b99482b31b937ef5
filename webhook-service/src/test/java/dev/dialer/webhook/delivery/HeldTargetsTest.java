package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

class HeldTargetsTest {

    /** One try per endpoint, three per account. */
    private final EndpointIsolation isolation = new EndpointIsolation(new IsolationProperties(1, 64, 3, 50, 4, 4,
            Duration.ofMinutes(1), Duration.ofMinutes(30)), new DeliveryMetrics(new SimpleMeterRegistry()));
    private final HeldTargets held = new HeldTargets(isolation);

    @Test
    void aWebhookIsHeldByItsIdAndAHookByItsEndpointWhileTheirEndpointIsOpen() {
        openCircuitOf("https://down.test/");
        held.refused("acc-1", new Target(Target.Kind.WEBHOOK, "wh-1", "https://down.test/a", "POST", null));
        held.refused("acc-1", new Target(Target.Kind.NOTIFY, "notify", "https://down.test/b?t=1", "GET", null));
        held.refused("acc-1", new Target(Target.Kind.ACTION, "action", "https://DOWN.test/b?t=2", "POST", null));
        held.refused("acc-1", new Target(Target.Kind.SUBSCRIPTION, "wh-2", "https://up.test/c", "POST", null));
        held.refused("acc-1", new Target(Target.Kind.NOTIFY, "notify", "https://up.test/d?t=3", "POST", null));

        HeldTargets.Held current = held.current();

        assertThat(current.webhookIds()).containsExactly("wh-1");
        assertThat(current.hookAccounts()).containsExactly("acc-1");
        assertThat(current.hookEndpoints()).containsExactly("https://down.test:-1");
        assertThat(held.size()).isEqualTo(2);
    }

    @Test
    void anotherAccountsTargetsOnTheSameEndpointAreNotHeld() {
        openCircuitOf("https://down.test/");
        held.refused("acc-2", new Target(Target.Kind.WEBHOOK, "wh-2", "https://down.test/a", "POST", null));
        held.refused("acc-2", new Target(Target.Kind.NOTIFY, "notify", "https://down.test/b?t=1", "GET", null));

        HeldTargets.Held current = held.current();

        assertThat(current.webhookIds()).isEmpty();
        assertThat(current.hookEndpoints()).isEmpty();
        assertThat(held.size()).isZero();
    }

    @Test
    void aTargetIsForgottenOnceItsEndpointTakesTriesAgain() {
        Sinks.One<AttemptResult> hanging = Sinks.one();
        isolation.call("acc-1", "https://busy.test/", hanging::asMono).subscribe();
        held.refused("acc-1", new Target(Target.Kind.WEBHOOK, "wh-1", "https://busy.test/hook", "POST", null));
        assertThat(held.current().webhookIds()).containsExactly("wh-1");

        hanging.tryEmitValue(AttemptResult.answered(200, Duration.ofMillis(1)));

        assertThat(held.current().webhookIds()).isEmpty();
        assertThat(held.size()).isZero();
    }

    @Test
    void anAccountAtItsLimitOverAllItsEndpointsIsHeldWholeUntilATryEnds() {
        Sinks.One<AttemptResult> hanging = Sinks.one();
        for (int call = 1; call <= 3; call++) {
            isolation.call("acc-1", "https://call-" + call + ".app.test/", hanging::asMono).subscribe();
        }
        held.refused("acc-1", new Target(Target.Kind.NOTIFY, "notify", "https://call-4.app.test/?t=4", "POST", null));
        held.refused("acc-2", new Target(Target.Kind.NOTIFY, "notify", "https://call-4.app.test/?t=5", "POST", null));

        HeldTargets.Held current = held.current();

        assertThat(current.accountIds()).containsExactly("acc-1");
        assertThat(current.hookAccounts()).containsExactly("acc-1");
        assertThat(held.size()).isEqualTo(2);

        hanging.tryEmitValue(AttemptResult.answered(200, Duration.ofMillis(1)));

        assertThat(held.current().accountIds()).isEmpty();
        assertThat(held.size()).isZero();
    }

    /**
     * What the poller may give up past the schedule's span: targets whose endpoint's circuit is open or backs off after
     * a 429, not those held only because their endpoint or account has its limit in flight.
     */
    @Test
    void onlyTargetsWhoseEndpointFailsOrAskedForTimeAreShut() {
        openCircuitOf("https://down.test/");
        isolation.call("acc-1", "https://slow.test/", () -> Mono.just(AttemptResult.answered(429, Duration.ofMillis(1),
                null, Duration.ofSeconds(30)))).block(Duration.ofSeconds(5));
        Sinks.One<AttemptResult> hanging = Sinks.one();
        isolation.call("acc-1", "https://busy.test/", hanging::asMono).subscribe();
        held.refused("acc-1", new Target(Target.Kind.WEBHOOK, "wh-down", "https://down.test/a", "POST", null));
        held.refused("acc-1", new Target(Target.Kind.WEBHOOK, "wh-busy", "https://busy.test/a", "POST", null));
        held.refused("acc-1", new Target(Target.Kind.NOTIFY, "notify", "https://slow.test/b?t=1", "POST", null));
        held.refused("acc-1", new Target(Target.Kind.NOTIFY, "notify", "https://busy.test/b?t=2", "POST", null));

        HeldTargets.Held current = held.current();
        HeldTargets.Held shut = held.shut();

        assertThat(current.webhookIds()).containsExactlyInAnyOrder("wh-down", "wh-busy");
        assertThat(current.hookEndpoints()).containsExactlyInAnyOrder("https://slow.test:-1", "https://busy.test:-1");
        assertThat(shut.accountIds()).isEmpty();
        assertThat(shut.webhookIds()).containsExactly("wh-down");
        assertThat(shut.hookAccounts()).containsExactly("acc-1");
        assertThat(shut.hookEndpoints()).containsExactly("https://slow.test:-1");
        hanging.tryEmitValue(AttemptResult.answered(200, Duration.ofMillis(1)));
    }

    private void openCircuitOf(String url) {
        for (int i = 0; i < 4; i++) {
            isolation.call("acc-1", url, () -> Mono.just(AttemptResult.failed(Reason.CONNECTION, "refused",
                    Duration.ofMillis(1)))).block(Duration.ofSeconds(5));
        }
    }
}
