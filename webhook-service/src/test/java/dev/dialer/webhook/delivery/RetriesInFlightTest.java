package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class RetriesInFlightTest {

    private final RetriesInFlight inFlight = new RetriesInFlight(16, 64);

    @Test
    void countsTheTriesInFlightByAccountsEndpointAndByAccountUntilTheyEnd() {
        DeliveryTask webhook = task("acc-1", new Target(Target.Kind.WEBHOOK, "wh-1", null, "POST", null));
        DeliveryTask subscription = task("acc-1", new Target(Target.Kind.SUBSCRIPTION, "wh-1", null, "POST", null));
        DeliveryTask hook = task("acc-1", new Target(Target.Kind.NOTIFY, "notify", "https://Slow.test/s?call=1",
                "POST", null));
        DeliveryTask otherHook = task("acc-2", new Target(Target.Kind.ACTION, "action", "https://slow.test/s?call=2",
                "POST", null));
        inFlight.started(webhook);
        inFlight.started(subscription);
        inFlight.started(hook);
        inFlight.started(otherHook);

        RetriesInFlight.Room room = inFlight.room();

        assertThat(room.perEndpoint()).as("a quarter of each limit kept for first tries").isEqualTo(12);
        assertThat(room.perAccount()).isEqualTo(48);
        assertThat(endpoints(room)).containsExactlyInAnyOrder("acc-1 webhook wh-1=2", "acc-1 https://slow.test:-1=1",
                "acc-2 https://slow.test:-1=1");
        assertThat(accounts(room)).containsExactlyInAnyOrder("acc-1=3", "acc-2=1");

        inFlight.ended(webhook);
        inFlight.ended(hook);
        inFlight.ended(otherHook);
        assertThat(endpoints(inFlight.room())).containsExactly("acc-1 webhook wh-1=1");
        assertThat(accounts(inFlight.room())).containsExactly("acc-1=1");

        inFlight.ended(subscription);
        assertThat(inFlight.room().endpoints()).isEmpty();
        assertThat(inFlight.room().accounts()).isEmpty();
    }

    @Test
    void webhooksOfOneAccountOnOneHostShareTheirEndpointsRoomAsTheyShareItsLimit() {
        String zapier = EndpointIsolation.endpoint("https://hooks.zapier.test/a");
        DeliveryTask first = task("acc-1", new Target(Target.Kind.WEBHOOK, "wh-1", null, "POST", null), zapier);
        DeliveryTask second = task("acc-1", new Target(Target.Kind.SUBSCRIPTION, "wh-2", null, "POST", null), zapier);
        DeliveryTask unknownWhenStored = task("acc-1", new Target(Target.Kind.WEBHOOK, "wh-3", null, "POST", null),
                null);
        inFlight.started(first);
        inFlight.started(second);
        inFlight.started(unknownWhenStored);

        assertThat(endpoints(inFlight.room())).containsExactlyInAnyOrder("acc-1 https://hooks.zapier.test:-1=2",
                "acc-1 webhook wh-3=1");
        // A webhook resolved for a try stores its URL's endpoint, a stored one keeps what its row says.
        assertThat(first.withTarget(new Target(Target.Kind.WEBHOOK, "wh-1", "https://other.test/b", "POST", "s"))
                .endpointToStore()).isEqualTo("https://other.test:-1");
        assertThat(first.endpointToStore()).isEqualTo(zapier);
    }

    @Test
    void thePollerTakesThreeQuartersOfALimitAndNeverNothing() {
        assertThat(RetriesInFlight.retryShare(16)).isEqualTo(12);
        assertThat(RetriesInFlight.retryShare(5)).isEqualTo(3);
        assertThat(RetriesInFlight.retryShare(4)).isEqualTo(3);
        assertThat(RetriesInFlight.retryShare(2)).isEqualTo(1);
        assertThat(RetriesInFlight.retryShare(1)).as("retries still go").isEqualTo(1);
    }

    private static String[] endpoints(RetriesInFlight.Room room) {
        String[] named = new String[room.endpoints().length];
        for (int i = 0; i < named.length; i++) {
            named[i] = room.endpointAccounts()[i] + " " + room.endpoints()[i] + "=" + room.endpointTries()[i];
        }
        return named;
    }

    private static String[] accounts(RetriesInFlight.Room room) {
        String[] named = new String[room.accounts().length];
        for (int i = 0; i < named.length; i++) {
            named[i] = room.accounts()[i] + "=" + room.accountTries()[i];
        }
        return named;
    }

    private static DeliveryTask task(String accountId, Target target) {
        return task(accountId, target, null);
    }

    private static DeliveryTask task(String accountId, Target target, String endpoint) {
        return new DeliveryTask(1L, "ev-1", "call.status", target, "req-1", accountId, new byte[0], 1, null, false,
                Instant.EPOCH, Instant.EPOCH, null, endpoint);
    }
}
