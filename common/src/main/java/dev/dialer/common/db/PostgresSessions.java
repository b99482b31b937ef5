package dev.dialer.common.db;

import java.util.Map;

/**
 * Session parameters every service sets on its PostgreSQL connections (startup parameters, so they hold from the
 * first statement): the server finds out that a client is gone within about a minute and ends its session, which
 * releases the locks the session held, and ends a session left idle inside a transaction.
 *
 * <p>Without them, a service whose host dies or is cut off (no FIN, no RST: a power loss, a partition) leaves its
 * sessions to the operating system's keepalive, two hours by default, and whatever they held stays held for that
 * long: the dispatcher's outbox relay lock (no other dispatcher publishes call events), the row locks of claimed
 * retries, webhook deliveries and dialogs (skipped by every other instance's {@code SKIP LOCKED} claims). Every
 * service sets the same, so the three behave alike.
 */
public final class PostgresSessions {

    /**
     * TCP keepalive from the server after 30 s of silence, every 10 s, three unanswered probes end the session; a
     * transaction idle for 5 minutes ends it too (longer than any round the services keep a transaction open across:
     * the outbox relay's publish to Kafka is bounded by its round timeout, 60 s by default).
     */
    public static final Map<String, String> PARAMETERS = Map.of(
            "tcp_keepalives_idle", "30",
            "tcp_keepalives_interval", "10",
            "tcp_keepalives_count", "3",
            "idle_in_transaction_session_timeout", "300000");

    private PostgresSessions() {
    }
}
