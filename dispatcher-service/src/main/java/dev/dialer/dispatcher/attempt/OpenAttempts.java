package dev.dialer.dispatcher.attempt;

import dev.dialer.common.contract.CallCommand;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The commands of the attempts this dispatcher recorded and has not seen end, so that their carrier callbacks (which
 * the same dispatcher applies: they are keyed by caller ID like the commands) need not read the command back from
 * PostgreSQL each time. Bounded: the oldest entries give way, and an attempt not found here (evicted, or recorded by
 * another dispatcher before a rebalance) is read from the {@link AttemptLedger}.
 *
 * <p>An entry is added only once the attempt is committed, so whatever is found here the ledger holds too. The command
 * is the attempt's: a retry's is the request's first command with its attempt number, which is all that differs. The
 * entry also knows which dial of the attempt is in flight, so a callback of an earlier dial is recognised without a
 * query ({@link #laterDialThan}).
 */
@Component
public class OpenAttempts {

    /** About 1 KB each: some 10 MB at most. */
    static final int CAPACITY = 10_000;

    private final AttemptLedger ledger;
    private final Counter hits;
    private final Counter misses;
    private final Map<String, Open> commands = new LinkedHashMap<>(1_024, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Open> eldest) {
            return size() > CAPACITY;
        }
    };

    public OpenAttempts(AttemptLedger ledger, MeterRegistry registry) {
        this.ledger = ledger;
        this.hits = registry.counter("dialer.dispatcher.open.attempts.lookups", "result", "hit");
        this.misses = registry.counter("dialer.dispatcher.open.attempts.lookups", "result", "miss");
    }

    /** @param throughTopic a callback of the attempt went through the callbacks topic: the rest follow it there */
    private record Open(CallCommand command, int dial, long recordedAt, boolean throughTopic) {
    }

    /** The attempt of {@code command} is recorded and claimed for its {@code dial}. */
    public void recorded(CallCommand command, int dial) {
        synchronized (commands) {
            commands.put(key(command.requestId(), command.attempt()),
                    new Open(command, dial, System.nanoTime(), false));
        }
    }

    /**
     * Whether a later dial of the attempt than {@code dial} is known to be in flight: then a callback about
     * {@code dial} is about a call that is over and must change nothing. False when the dial is unknown or not known
     * to be superseded (the ledger's guarded statements decide then).
     */
    public boolean laterDialThan(String requestId, int attempt, Integer dial) {
        if (dial == null) {
            return false;
        }
        Open open;
        synchronized (commands) {
            open = commands.get(key(requestId, attempt));
        }
        return open != null && open.dial() > dial;
    }

    /**
     * Whether this dispatcher recorded the attempt (its latest dial) at {@code since} ({@link System#nanoTime}) or
     * later and has not seen it end, as far as it still remembers, and none of its callbacks went through the topic
     * since ({@link #throughTopic}).
     *
     * @param since when this dispatcher's ownership of the attempt's caller ID began ({@code KeyRouting.ownedSince});
     *              null when it does not own it, and then the answer is no
     */
    public boolean dialledHereSince(String requestId, int attempt, Long since) {
        if (since == null) {
            return false;
        }
        Open open;
        synchronized (commands) {
            open = commands.get(key(requestId, attempt));
        }
        return open != null && !open.throughTopic() && open.recordedAt() - since >= 0;
    }

    /**
     * A callback of the attempt's current dial was appended to the callbacks topic instead of being applied here: its
     * later callbacks must go the same way, behind it, not overtake it.
     */
    public void throughTopic(String requestId, int attempt) {
        synchronized (commands) {
            commands.computeIfPresent(key(requestId, attempt),
                    (key, open) -> new Open(open.command(), open.dial(), open.recordedAt(), true));
        }
    }

    /** The attempt ended, or went back to the schedule: its callbacks, if any more come, read the ledger. */
    public void ended(String requestId, int attempt) {
        synchronized (commands) {
            commands.remove(key(requestId, attempt));
        }
    }

    /** The command behind an attempt; empty when the dispatcher never recorded the attempt. */
    public Mono<CallCommand> command(String requestId, int attempt) {
        Open known;
        synchronized (commands) {
            known = commands.get(key(requestId, attempt));
        }
        if (known != null) {
            hits.increment();
            return Mono.just(known.command());
        }
        misses.increment();
        return ledger.findCommand(requestId, attempt);
    }

    private static String key(String requestId, int attempt) {
        return requestId + "#" + attempt;
    }
}
