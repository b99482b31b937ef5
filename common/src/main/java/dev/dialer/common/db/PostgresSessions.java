package dev.dialer.common.db;

import io.r2dbc.postgresql.PostgresqlConnectionFactoryProvider;
import io.r2dbc.spi.ConnectionFactoryOptions;
import java.util.Map;

/**
 * Session parameters every service sets on its PostgreSQL connections (startup parameters, so they hold from the
 * first statement): the server finds out within about a minute that a client is gone, and ends its session.
 *
 * <p>A service whose host dies or is cut off (no FIN, no RST: a power loss, a partition) otherwise leaves its sessions
 * to the operating system's TCP settings: two hours of keepalive for an idle one, about fifteen minutes of
 * retransmissions for one whose results the client no longer reads. Until then each holds a connection slot of the
 * server and whatever it had locked at that moment: the per-callee advisory lock of a dial's claim (every other
 * dispatcher's dial to that callee waits), a cancel's lock in api-service, rows it had updated in an open
 * transaction. The dispatcher's outbox relay does not depend on this: it bounds each round's transaction itself (its
 * statement and idle timeouts, set per round). Every service sets the same, so the three behave alike; each gives up a
 * silent server as the server gives up a silent service ({@link PostgresSockets}).
 */
public final class PostgresSessions {

    /**
     * TCP keepalive from the server after 30 s of silence, every 10 s, three unanswered probes end the session; data
     * the client has not acknowledged for 60 s ends it too; so does a transaction left idle for 5 minutes (far longer
     * than any the services keep open across a wait: those are bounded by the Kafka acknowledgement timeout).
     */
    public static final Map<String, String> PARAMETERS = Map.of(
            "tcp_keepalives_idle", "30",
            "tcp_keepalives_interval", "10",
            "tcp_keepalives_count", "3",
            "tcp_user_timeout", "60000",
            "idle_in_transaction_session_timeout", "300000");

    private PostgresSessions() {
    }

    /**
     * Whatever the URL says: these session parameters, and sockets that give up a silent server about a minute after
     * it went silent ({@link PostgresSockets}, keepalive switched on for them). For each service's
     * {@code ConnectionFactoryOptionsBuilderCustomizer}; replaces the driver's {@code options}, {@code tcpKeepAlive}
     * and {@code loopResources} given elsewhere.
     */
    public static void applyTo(ConnectionFactoryOptions.Builder options) {
        options.option(PostgresqlConnectionFactoryProvider.OPTIONS, PARAMETERS)
                .option(PostgresqlConnectionFactoryProvider.TCP_KEEPALIVE, true)
                .option(PostgresqlConnectionFactoryProvider.LOOP_RESOURCES, PostgresSockets.INSTANCE);
    }
}
