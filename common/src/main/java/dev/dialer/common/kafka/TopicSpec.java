package dev.dialer.common.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** How one topic is created: partitions and the configs that matter to its use. */
public record TopicSpec(String name, int partitions, Map<String, String> configs) {

    static TopicSpec deleting(String name, int partitions, Duration retention) {
        return new TopicSpec(name, partitions, Map.of(
                "cleanup.policy", "delete",
                "retention.ms", Long.toString(retention.toMillis())));
    }

    /**
     * A compacted topic, its segments rolled hourly: the segment being written is never compacted, so under the
     * broker's default (7 days) entries replaced and tombstones stayed for a week, and each start-up read them all.
     */
    static TopicSpec compacted(String name, int partitions) {
        return new TopicSpec(name, partitions, Map.of(
                "cleanup.policy", "compact",
                "min.compaction.lag.ms", "0",
                "segment.ms", Long.toString(Duration.ofHours(1).toMillis()),
                "delete.retention.ms", Long.toString(Duration.ofDays(1).toMillis())));
    }

    /** The same topic, keeping a deletion (a tombstone) for {@code retention} after compaction reached it. */
    TopicSpec keepingDeletions(Duration retention) {
        Map<String, String> kept = new HashMap<>(configs);
        kept.put("delete.retention.ms", Long.toString(retention.toMillis()));
        return new TopicSpec(name, partitions, Map.copyOf(kept));
    }

    /** The same topic, its segments rolled every {@code period} ({@code segment.ms}), not the broker's week. */
    TopicSpec rolledEvery(Duration period) {
        Map<String, String> rolled = new HashMap<>(configs);
        rolled.put("segment.ms", Long.toString(period.toMillis()));
        return new TopicSpec(name, partitions, Map.copyOf(rolled));
    }

    /** The same topic, taking record batches of at most {@code bytes} ({@code max.message.bytes}). */
    TopicSpec maxMessageBytes(int bytes) {
        Map<String, String> sized = new HashMap<>(configs);
        sized.put("max.message.bytes", Integer.toString(bytes));
        return new TopicSpec(name, partitions, Map.copyOf(sized));
    }
}
