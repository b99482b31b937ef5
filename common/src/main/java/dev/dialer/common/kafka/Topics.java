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
    /**
     * Bad command records, untouched, with error headers; one too large to copy whole is cut short and marked
     * ({@link #HEADER_DLQ_TRUNCATED}).
     */
    public static final String CALL_COMMANDS_DLQ = "dialer.call.commands.dlq";
    /** CallEvent v1, key request id. */
    public static final String CALL_EVENTS = "dialer.call.events";
    /**
     * Call event records webhook-service could not read or handle, untouched, with error headers (as
     * {@link #CALL_COMMANDS_DLQ}).
     */
    public static final String CALL_EVENTS_DLQ = "dialer.call.events.dlq";
    /** Verified carrier callbacks, key caller ID, applied by the caller ID's owner. */
    public static final String CARRIER_CALLBACKS = "dialer.carrier.callbacks";
    /**
     * Carrier callback records the dispatcher could not read or apply, untouched, with error headers (as
     * {@link #CALL_COMMANDS_DLQ}).
     */
    public static final String CARRIER_CALLBACKS_DLQ = "dialer.carrier.callbacks.dlq";
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
    /**
     * Replay request records webhook-service could not read or handle, untouched, with error headers (as
     * {@link #CALL_COMMANDS_DLQ}).
     */
    public static final String WEBHOOK_CONTROL_DLQ = "dialer.webhook.control.dlq";

    /** Header naming why a record went to a DLQ. */
    public static final String HEADER_ERROR_CODE = "dialer.error.code";
    public static final String HEADER_ERROR_MESSAGE = "dialer.error.message";
    public static final String HEADER_SOURCE_TOPIC = "dialer.source.topic";
    public static final String HEADER_SOURCE_PARTITION = "dialer.source.partition";
    public static final String HEADER_SOURCE_OFFSET = "dialer.source.offset";
    /**
     * On a DLQ copy whose value was cut short or left out, because the whole copy was larger than a record may be:
     * {@code true}. The whole record is still in the source topic, at the offset named, for that topic's retention.
     */
    public static final String HEADER_DLQ_TRUNCATED = "dialer.dlq.truncated";
    /** On a truncated DLQ copy: how many bytes the source record's value has. */
    public static final String HEADER_DLQ_ORIGINAL_SIZE = "dialer.dlq.original.size";
    /**
     * On a DLQ copy whose key was cut short, because the key alone was larger than a record may be (or than a copy
     * without its value should be): how many bytes the source record's key has, as read (UTF-8).
     */
    public static final String HEADER_DLQ_KEY_ORIGINAL_SIZE = "dialer.dlq.key.original.size";

    /**
     * The largest record batch {@link #CALL_COMMANDS} takes ({@code max.message.bytes}): the 1 MiB a Kafka producer
     * sends at most by default, stated so that the DLQ can be sized from it.
     */
    public static final int MAX_COMMAND_BYTES = 1024 * 1024;
    /**
     * The largest command value the dialer takes: one it can always publish again uncompressed (a retry, a wait's
     * end, a re-route) into {@link #CALL_COMMANDS}, with room for its key, its headers and the batch's own bytes. A
     * producer that compresses can put a larger one on the topic; it is refused at once, not at its first retry.
     */
    public static final int MAX_COMMAND_VALUE_BYTES = MAX_COMMAND_BYTES - 8 * 1024;
    /**
     * The largest record batch each DLQ takes, and the largest record a {@link KafkaPublisher} sends: the largest
     * command, or event, and room for the error headers its DLQ copy adds.
     */
    public static final int MAX_DLQ_RECORD_BYTES = MAX_COMMAND_BYTES + 64 * 1024;
    /** The largest record batch {@link #CALL_EVENTS} takes ({@code max.message.bytes}). */
    public static final int MAX_EVENT_BYTES = 1024 * 1024;

    private static final Duration WEEK = Duration.ofDays(7);
    private static final Duration DLQ_RETENTION = Duration.ofDays(30);
    /**
     * How long {@link #CALL_COMMANDS_DLQ} keeps a copy, its segments rolled daily: every copy is gone within 14 days
     * of being written. A copy is written when its command's handling fails, as late as 14 days after the command (one
     * read again), so it is gone within 28 days of its command, before the dispatcher's ledger (keeping an ended
     * request 30 days by default) can forget the copy's request; a shorter retention is warned of at start. A copy
     * replayed after its request was forgotten would find no request and be dialled again.
     */
    public static final Duration COMMANDS_DLQ_RETENTION = Duration.ofDays(13);
    /** How often {@link #CALL_COMMANDS_DLQ} rolls a segment: a segment is deleted once its newest record expires. */
    public static final Duration COMMANDS_DLQ_SEGMENT = Duration.ofDays(1);
    /**
     * How long a deleted webhook's tombstone stays on {@link #WEBHOOK_CONFIG}: a webhook-service starting later knows
     * the webhook no more, and an event of a call still naming it (queued, waiting for its window or a retry) would
     * wait for it as for one not yet arrived, then be stored and dead-lettered, instead of skipping it at once. Longer
     * than calls wait in practice; tombstones are a few bytes each.
     */
    static final Duration WEBHOOK_DELETIONS_KEPT = Duration.ofDays(30);

    private Topics() {
    }

    /**
     * Every topic with its settings. Retention of the work topics (a week) is far longer than the longest wait,
     * which never sits in a topic anyway (waits live in the dispatcher's PostgreSQL schedule).
     *
     * <p>The commands DLQ takes every command of up to 1 MiB (uncompressed) whole with its error headers, and keeps it
     * for 13 days, its segments rolled daily: longer than the commands topic's week, so a DLQ copy outlives its
     * original, and gone before the dispatcher's ledger forgets its request ({@link #COMMANDS_DLQ_RETENTION}). A copy
     * that could not be sent whole (a larger command that reached the topic compressed, the limits changed on a topic
     * that exists, or a producer that sends less) has only a part of the value: its original can be read from the
     * source topic, at the offset the copy names, for that topic's week only. The DLQs of the call events, of the
     * carrier callbacks and of the replay requests are made alike: each keeps its copies 30 days and takes the largest
     * record of its source whole with its error headers.
     *
     * @param partitions partitions of the keyed work topics; compacted configuration topics use at most 3
     */
    public static List<TopicSpec> all(int partitions) {
        int small = Math.min(partitions, 3);
        return List.of(
                TopicSpec.deleting(CALL_COMMANDS, partitions, WEEK).maxMessageBytes(MAX_COMMAND_BYTES),
                TopicSpec.deleting(CALL_COMMANDS_DLQ, small, COMMANDS_DLQ_RETENTION).rolledEvery(COMMANDS_DLQ_SEGMENT)
                        .maxMessageBytes(MAX_DLQ_RECORD_BYTES),
                TopicSpec.deleting(CALL_EVENTS, partitions, WEEK).maxMessageBytes(MAX_EVENT_BYTES),
                TopicSpec.deleting(CALL_EVENTS_DLQ, small, DLQ_RETENTION).maxMessageBytes(MAX_DLQ_RECORD_BYTES),
                TopicSpec.deleting(CARRIER_CALLBACKS, partitions, Duration.ofDays(2)),
                TopicSpec.deleting(CARRIER_CALLBACKS_DLQ, small, DLQ_RETENTION).maxMessageBytes(MAX_DLQ_RECORD_BYTES),
                TopicSpec.compacted(CALL_CONTROL, small),
                TopicSpec.compacted(ACCOUNT_CONFIG, small),
                TopicSpec.compacted(DNC, small),
                TopicSpec.compacted(WEBHOOK_CONFIG, small).keepingDeletions(WEBHOOK_DELETIONS_KEPT),
                TopicSpec.deleting(WEBHOOK_DELIVERIES, partitions, WEEK),
                TopicSpec.deleting(WEBHOOK_CONTROL, small, WEEK),
                TopicSpec.deleting(WEBHOOK_CONTROL_DLQ, small, DLQ_RETENTION).maxMessageBytes(MAX_DLQ_RECORD_BYTES));
    }
}
