package dev.dialer.webhook;

import static dev.dialer.webhook.ItFixture.command;
import static dev.dialer.webhook.ItFixture.unique;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallEvent;
import dev.dialer.common.contract.Hook;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.search.Search;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.r2dbc.core.DatabaseClient;

/**
 * Calls of one new account whose {@code notify_url} is a port nobody listens on, and what became of their events: for
 * the tests of retries to an endpoint that stays down.
 */
final class DownHookCalls {

    private final DatabaseClient database;
    private final List<String> events = new ArrayList<>();

    private DownHookCalls(DatabaseClient database) {
        this.database = database;
    }

    /** Publishes one {@code ringing} event of each of {@code calls} calls. */
    static DownHookCalls published(ItFixture fixture, DatabaseClient database, int calls) throws IOException {
        DownHookCalls published = new DownHookCalls(database);
        String down = "http://127.0.0.1:" + closedPort() + "/status?call=";
        String account = unique("acc");
        for (int i = 0; i < calls; i++) {
            String requestId = unique("req");
            CallEvent event = CallEvent.about(command(requestId, account, null, new Hook(down + requestId, "POST")))
                    .sequence(1).status(AttemptStatus.RINGING).build();
            fixture.publishEvents(requestId, List.of(event));
            published.events.add(event.eventId());
        }
        return published;
    }

    /** The calls' events in the dead letters, as notify deliveries. */
    long deadLetters() {
        return count("SELECT count(*) AS n FROM webhook.dead_letters WHERE event_id = ANY(:events) "
                + "AND target_kind = 'NOTIFY'");
    }

    /** The calls' events waiting in the retry table. */
    long waiting() {
        return count("SELECT count(*) AS n FROM webhook.retries WHERE event_id = ANY(:events)");
    }

    /** Notify deliveries given up as refused past the retry schedule's span, for {@code reason} or, null, any. */
    static double expired(MeterRegistry meters, String reason) {
        Search search = meters.find("dialer.webhook.retries.expired").tag("target", "notify");
        return (reason == null ? search : search.tag("reason", reason)).counters().stream()
                .mapToDouble(Counter::count).sum();
    }

    private long count(String sql) {
        return database.sql(sql)
                .bind("events", events.toArray(String[]::new))
                .map(row -> row.get("n", Long.class))
                .one()
                .block(Duration.ofSeconds(10));
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
