package dev.dialer.dispatcher.attempt;

import dev.dialer.common.kafka.Topics;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * How long the request ledger ({@code dispatch.requests}, {@code dispatch.attempts}) remembers ended requests.
 *
 * @param retention     how long after its end a request, its attempts and what hangs off them are kept; zero keeps
 *                      them for ever. At least {@link #MINIMUM_RETENTION}: a command read again (a consumer group
 *                      whose offsets lapsed and start from the earliest, a reset by hand) must find its request, or it
 *                      would be dialled once more
 * @param purgeInterval how often ended requests past their retention are looked for
 */
@Validated
@ConfigurationProperties("dialer.dispatcher.ledger")
public record LedgerProperties(
        @DefaultValue("P30D") @NotNull Duration retention,
        @DefaultValue("PT1M") @NotNull Duration purgeInterval) {

    /**
     * The shortest retention: {@code dialer.call.commands} keeps a record 7 days, and a log segment is deleted only
     * once its newest record is that old, which with Kafka's default roll time (7 days) is up to 14 days after the
     * oldest was written; one day more for a consumer still reading them.
     */
    public static final Duration MINIMUM_RETENTION = Duration.ofDays(15);
    /** Kept beyond the commands topic's own window, for a consumer still reading what it is about to delete. */
    static final Duration REREAD_MARGIN = Duration.ofDays(1);

    public LedgerProperties {
        if (retention != null && (retention.isNegative()
                || !retention.isZero() && retention.compareTo(MINIMUM_RETENTION) < 0)) {
            throw new IllegalArgumentException("dialer.dispatcher.ledger.retention must be zero (keep for ever) or at "
                    + "least P15D (a command may be read again 14 days after it was written), "
                    + "was " + retention);
        }
        if (purgeInterval != null && (purgeInterval.isNegative() || purgeInterval.isZero())) {
            throw new IllegalArgumentException("dialer.dispatcher.ledger.purge-interval must be positive, was "
                    + purgeInterval);
        }
    }

    /**
     * Refuses a retention under {@code rereadWindow}, how long after it was written a command may still be read from
     * {@code topic} (null: for ever), plus a day: such a command would not find its request, and be dialled again.
     */
    public void requireLongerThan(Duration rereadWindow, String topic) {
        String shorter = shorterThan(rereadWindow, topic);
        if (shorter != null) {
            throw new IllegalStateException(shorter + "; a command read again would be dialled again. Set a longer "
                    + "retention, or PT0S to keep every request");
        }
    }

    /**
     * Why the retention is under {@code rereadWindow} of {@code topic} plus a day, or null when it is not (or when
     * ended requests are kept for ever).
     */
    public String shorterThan(Duration rereadWindow, String topic) {
        if (!purges() || rereadWindow != null && retention.compareTo(rereadWindow.plus(REREAD_MARGIN)) >= 0) {
            return null;
        }
        return "dialer.dispatcher.ledger.retention (" + retention + ") is shorter than " + topic + " may give a "
                + "command back: " + (rereadWindow == null ? "it keeps records for ever"
                : "its retention.ms plus segment.ms is " + rereadWindow + ", and a day more is needed");
    }

    /**
     * Why the retention is under how long after its command a DLQ copy may be replayed, plus a day, and what to do
     * about it; null when it is not (or when ended requests are kept for ever). A copy is written when its command's
     * handling fails, which may be as late as {@code commandsWindow} after the command was written (a command read
     * again after its request ended, decision 0103), and can be read {@code dlqWindow} after that; a null window is
     * for ever. Shortening the DLQ is offered only when it keeps copies longer than the dispatcher creates it to, and
     * that would be enough.
     */
    public String shorterThanReplays(Duration commandsWindow, Duration dlqWindow, String dlq) {
        Duration replayWindow = commandsWindow == null || dlqWindow == null ? null : commandsWindow.plus(dlqWindow);
        if (!purges() || replayWindow != null && retention.compareTo(replayWindow.plus(REREAD_MARGIN)) >= 0) {
            return null;
        }
        Duration made = Topics.COMMANDS_DLQ_RETENTION.plus(Topics.COMMANDS_DLQ_SEGMENT);
        // Offered only where it is enough: a DLQ as the dispatcher makes it, behind this commands topic.
        boolean dlqLonger = (dlqWindow == null || dlqWindow.compareTo(made) > 0)
                && retention.compareTo(commandsWindow.plus(made).plus(REREAD_MARGIN)) >= 0;
        return "dialer.dispatcher.ledger.retention (" + retention + ") is shorter than " + dlq + " may give a copy "
                + "back: " + (replayWindow == null ? "it keeps records for ever"
                : "a copy may be written " + commandsWindow + " after its command (read again) and read " + dlqWindow
                + " after that, " + replayWindow + " in all, and a day more is needed")
                + "; a copy replayed after its request was forgotten would be dialled again. Replay only copies of "
                + "commands written less than " + retention + " ago"
                + (replayWindow == null ? "" : ", or keep ended requests at least " + replayWindow.plus(REREAD_MARGIN))
                + (dlqLonger ? ", or set the DLQ's retention.ms and segment.ms to "
                        + Topics.COMMANDS_DLQ_RETENTION.toMillis() + " and " + Topics.COMMANDS_DLQ_SEGMENT.toMillis()
                        + ", as the dispatcher creates it" : "");
    }

    /** Whether ended requests are ever deleted. */
    boolean purges() {
        return !retention.isZero();
    }
}
