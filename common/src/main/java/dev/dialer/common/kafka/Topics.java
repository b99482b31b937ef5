package dev.dialer.common.kafka;

import java.time.Duration;
import java.util.List;

/**
 * The dialer's topics, their keys and how they are created. The services create them at start-up
 * ({@link TopicProvisioner}) and never rely on the broker's auto-create.
 */
public final class Topics {

    /** CallCommand v1, key caller ID. Public: upstream systems produce here. */
    public static final String CALL_COMMANDS = "dialer.call.commands";
    /** Bad command records, untouched, with error headers. */
    public static final String CALL_COMMANDS_DLQ = "dialer.call.commands.dlq";
    /** CallEvent v1, key request id. */
    public static final String CALL_EVENTS = "dialer.call.events";
    /** Verified carrier callbacks, key caller ID, applied by the caller ID's owner. */
    public static final String CARRIER_CALLBACKS = "dialer.carrier.callbacks";
    /** Cancel, pause, resume; compacted, read in full by every dispatcher. */
    public static final String CALL_CONTROL = "dialer.call.control";
    /** Account settings, key account; compacted. */
    public static final String ACCOUNT_CONFIG = "dialer.account.config";
    /** Do-not-call entries, key account + number; compacted. */
    public static final String DNC = "dialer.dnc";
    /** Webhooks and subscriptions, key id; compacted. */
    public static final String WEBHOOK_CONFIG = "dialer.webhook.config";
    /** One record per webhook delivery attempt, key webhook id. */
    public static final String WEBHOOK_DELIVERIES = "dialer.webhook.deliveries";
    /** Replay requests for webhook-service, key webhook id. */
    public static final String WEBHOOK_CONTROL = "dialer.webhook.control";

    /** Header naming why a record went to a DLQ. */
    public static final String HEADER_ERROR_CODE = "dialer.error.code";
    public static final String HEADER_ERROR_MESSAGE = "dialer.error.message";
    public static final String HEADER_SOURCE_TOPIC = "dialer.source.topic";
    public static final String HEADER_SOURCE_PARTITION = "dialer.source.partition";
    public static final String HEADER_SOURCE_OFFSET = "dialer.source.offset";

    private static final Duration WEEK = Duration.ofDays(7);

    private Topics() {
    }

    /**
     * Every topic with its settings. Retention of the work topics (a week) is far longer than the longest wait,
     * which never sits in a topic anyway (waits live in the dispatcher's PostgreSQL schedule).
     *
     * @param partitions partitions of the keyed work topics; compacted configuration topics use at most 3
     */
    public static List<TopicSpec> all(int partitions) {
        int small = Math.min(partitions, 3);
        return List.of(
                TopicSpec.deleting(CALL_COMMANDS, partitions, WEEK),
                TopicSpec.deleting(CALL_COMMANDS_DLQ, small, Duration.ofDays(30)),
                TopicSpec.deleting(CALL_EVENTS, partitions, WEEK),
                TopicSpec.deleting(CARRIER_CALLBACKS, partitions, Duration.ofDays(2)),
                TopicSpec.compacted(CALL_CONTROL, small),
                TopicSpec.compacted(ACCOUNT_CONFIG, small),
                TopicSpec.compacted(DNC, small),
                TopicSpec.compacted(WEBHOOK_CONFIG, small),
                TopicSpec.deleting(WEBHOOK_DELIVERIES, partitions, WEEK),
                TopicSpec.deleting(WEBHOOK_CONTROL, small, WEEK));
    }
}
