package dev.dialer.common.kafka;

import dev.dialer.common.contract.ContractViolation;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;
import reactor.util.retry.RetryBackoffSpec;

/**
 * Sends the DLQ copy of a bad record: the value untouched, headers naming the error and where it came from (source
 * topic, partition, offset).
 *
 * <p>A bad record is never dropped for being large. A copy larger than the publisher sends
 * ({@link KafkaPublisher#maxRecordBytes()}) goes with its value cut to fit; one the DLQ topic refuses as too large goes
 * without its value. Either is marked {@link Topics#HEADER_DLQ_TRUNCATED} with the value's size
 * ({@link Topics#HEADER_DLQ_ORIGINAL_SIZE}) and keeps the error and source headers, so the whole record can be read
 * from the source topic for as long as that topic keeps it. A key that alone leaves no room is cut too (a copy without
 * its value keeps at most {@value #MAX_KEY_BYTES_WITHOUT_VALUE} bytes of it), marked
 * {@link Topics#HEADER_DLQ_KEY_ORIGINAL_SIZE}: a bad record's partition never waits on a copy that cannot be sent.
 */
public final class DeadLetters {

    /** The prefix of the headers the dialer itself sets on the records it publishes. */
    static final String OWN_HEADERS = "dialer.";

    private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);
    private static final int MAX_MESSAGE_CHARS = 1000;
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    private static final byte[] NO_VALUE = new byte[0];
    // A record batch of one record, counted as Kafka's producer counts it before it sends, with every length taken at
    // its largest varint (5 bytes): so a copy estimated to fit is never refused by the producer for its size.
    private static final int BATCH_OVERHEAD = 61;
    private static final int RECORD_OVERHEAD = 21;
    private static final int VARINT = 5;
    /** The most of a key a copy without its value keeps: any broker's record size takes that and the headers. */
    static final int MAX_KEY_BYTES_WITHOUT_VALUE = 1024;

    private final KafkaPublisher publisher;
    private final String topic;
    private final Set<String> keptOwnHeaders;

    /**
     * @param topic the DLQ
     */
    public DeadLetters(KafkaPublisher publisher, String topic) {
        this(publisher, topic, Set.of());
    }

    /**
     * @param topic          the DLQ
     * @param keptOwnHeaders headers of the dialer's own that say what the record is, not how it travelled, so that a
     *                       copy published again means what the record meant: kept on the copy
     */
    public DeadLetters(KafkaPublisher publisher, String topic, Set<String> keptOwnHeaders) {
        this.publisher = publisher;
        this.topic = topic;
        this.keptOwnHeaders = Set.copyOf(keptOwnHeaders);
    }

    /** What reached the DLQ. */
    public enum Copy {
        /** The record as it was read. */
        WHOLE,
        /** The record with its value cut short or left out, because it was too large to send whole. */
        TRUNCATED;

        /** The value of a metric tag. */
        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Sends the copy of {@code bad}, cut to fit when it is too large. Completes with what was sent once the broker
     * has it; errors with the producer's exception otherwise (retrying an outage is the caller's part).
     */
    public Mono<Copy> send(InboundRecord bad, ContractViolation violation) {
        OutboundRecord copy = copy(bad, topic, violation, publisher.maxRecordBytes(), keptOwnHeaders);
        Mono<Copy> sent = truncated(copy) ? sendCut(bad, copy) : publisher.publish(copy).thenReturn(Copy.WHOLE);
        // Never lost for its size: what can go, goes, naming where the whole record is.
        return sent.onErrorResume(RecordTooLargeException.class, refused -> sendWithoutValue(bad, violation, refused));
    }

    /**
     * {@link #send}, tried again whatever the failure until the DLQ has the copy, then logged: for a consumer that
     * acknowledges the bad record once this completes, so that no record is acknowledged without its copy. Not only
     * outages are tried again: a DLQ that refuses writes for good (its write permission missing) holds back the
     * record's partition, seen as consumer lag and as an error logged at each try, until it is put right; the
     * partition's other records go on meanwhile, but none is committed past it. Never errors.
     *
     * @param what what the record is, for the log ({@code command}, {@code call event})
     */
    public Mono<Copy> sendUntilDone(InboundRecord bad, ContractViolation violation, String what) {
        return send(bad, violation)
                .retryWhen(untilDone(bad, what))
                .doOnNext(copy -> log.warn("{} at {}-{}@{} is {}: {}; sent to {} ({})", what, bad.topic(),
                        bad.partition(), bad.offset(), violation.code().wire(), violation.getMessage(), topic,
                        copy.wire()));
    }

    /** Tries again whatever the failure, backing off to 30 s, each failure logged as an error. */
    static RetryBackoffSpec untilDone(InboundRecord bad, String what) {
        return Retry.backoff(Long.MAX_VALUE, FIRST_BACKOFF).maxBackoff(MAX_BACKOFF)
                .doBeforeRetry(signal -> log.error("the DLQ copy of {} at {}-{}@{} was not sent (retry {}); it is not "
                                + "given up, and the record is not acknowledged until it is: {}", what, bad.topic(),
                        bad.partition(), bad.offset(), signal.totalRetries() + 1, signal.failure().toString()));
    }

    private Mono<Copy> sendCut(InboundRecord bad, OutboundRecord copy) {
        return publisher.publish(copy).thenReturn(Copy.TRUNCATED)
                .doOnNext(sent -> log.warn("the DLQ copy of {}-{}@{} is larger than the {} bytes a record may have; "
                                + "sent to {} with {} of its {} value bytes", bad.topic(), bad.partition(), bad.offset(),
                        publisher.maxRecordBytes(), topic, copy.value().length, size(bad.value())));
    }

    /** The copy was refused as too large after all (by the DLQ topic, or for its headers): the headers alone must do. */
    private Mono<Copy> sendWithoutValue(InboundRecord bad, ContractViolation violation, RecordTooLargeException why) {
        return publisher.publish(withoutValue(bad, topic, violation)).thenReturn(Copy.TRUNCATED)
                .doOnNext(sent -> log.warn("the DLQ copy of {}-{}@{} was refused as too large ({}); sent to {} without "
                                + "its {} value bytes", bad.topic(), bad.partition(), bad.offset(), why.getMessage(),
                        topic, size(bad.value())));
    }

    /**
     * The whole copy: the value untouched, the record's own headers as they came (their order, repeated names, binary
     * and null values: {@link InboundRecord#rawHeaders}) and the error and source headers. Not the dialer's own marks
     * ({@value #OWN_HEADERS}…: re-routed, parked, front of its lane), which tell the dispatcher how the record
     * travelled: a copy replayed with them would skip its re-routing or its place in its lane. But for those
     * {@code kept}.
     */
    static OutboundRecord of(InboundRecord bad, String dlqTopic, ContractViolation violation, Set<String> kept) {
        List<Header> carried = bad.rawHeaders().stream()
                .filter(header -> !header.key().startsWith(OWN_HEADERS) || kept.contains(header.key()))
                .toList();
        return new OutboundRecord(dlqTopic, bad.key(), bad.value(), errorHeaders(bad, violation), carried);
    }

    /**
     * The copy a producer that sends records of at most {@code maxRecordBytes} can send: the whole copy when it
     * fits, else one marked truncated whose value is cut to the bytes that fit (none when the headers alone fill it);
     * of the dialer's own headers, those {@code kept} ({@link #of}).
     */
    static OutboundRecord copy(InboundRecord bad, String dlqTopic, ContractViolation violation, int maxRecordBytes,
                               Set<String> kept) {
        OutboundRecord whole = of(bad, dlqTopic, violation, kept);
        if (sizeUpperBound(whole) <= maxRecordBytes) {
            return whole;
        }
        Map<String, String> headers = new HashMap<>(whole.headers());
        headers.putAll(truncationHeaders(bad));
        String key = bad.key();
        Map<String, String> withKeyCut = keyCut(headers, bad);
        int keyRoom = maxRecordBytes - sizeUpperBound(new OutboundRecord(dlqTopic, null, NO_VALUE, withKeyCut,
                whole.carried()));
        if (utf8(key) > keyRoom) {
            headers = withKeyCut;
            key = cut(key, keyRoom);
        }
        int room = maxRecordBytes - sizeUpperBound(new OutboundRecord(dlqTopic, key, NO_VALUE, headers,
                whole.carried()));
        byte[] value = Arrays.copyOf(bad.value() == null ? NO_VALUE : bad.value(),
                Math.max(0, Math.min(room, size(bad.value()))));
        return new OutboundRecord(dlqTopic, key, value, headers, whole.carried());
    }

    /**
     * The copy as small as it can be: no value, and of the record's own headers (which may be what made it large)
     * none; the error, source and truncation headers only; the key cut to {@value #MAX_KEY_BYTES_WITHOUT_VALUE}
     * bytes when longer.
     */
    static OutboundRecord withoutValue(InboundRecord bad, String dlqTopic, ContractViolation violation) {
        Map<String, String> headers = new HashMap<>(errorHeaders(bad, violation));
        headers.putAll(truncationHeaders(bad));
        if (utf8(bad.key()) <= MAX_KEY_BYTES_WITHOUT_VALUE) {
            return new OutboundRecord(dlqTopic, bad.key(), NO_VALUE, headers);
        }
        return new OutboundRecord(dlqTopic, cut(bad.key(), MAX_KEY_BYTES_WITHOUT_VALUE), NO_VALUE,
                keyCut(headers, bad));
    }

    /** {@code headers} and the mark of a cut key. */
    private static Map<String, String> keyCut(Map<String, String> headers, InboundRecord bad) {
        Map<String, String> marked = new HashMap<>(headers);
        marked.put(Topics.HEADER_DLQ_KEY_ORIGINAL_SIZE, Integer.toString(utf8(bad.key())));
        return marked;
    }

    /** The longest start of {@code text} of at most {@code maxBytes} bytes in UTF-8, cut between code points. */
    static String cut(String text, int maxBytes) {
        int bytes = 0;
        int end = 0;
        while (end < text.length()) {
            int codePoint = text.codePointAt(end);
            int length = codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
            if (bytes + length > maxBytes) {
                break;
            }
            bytes += length;
            end += Character.charCount(codePoint);
        }
        return text.substring(0, end);
    }

    /**
     * At least the bytes the producer counts for {@code record} alone in a batch (uncompressed) when it checks the
     * record against its {@code max.request.size}.
     */
    static int sizeUpperBound(OutboundRecord record) {
        int size = BATCH_OVERHEAD + RECORD_OVERHEAD + VARINT + utf8(record.key()) + VARINT + size(record.value())
                + VARINT;
        for (Header header : record.sentHeaders()) {
            size += VARINT + utf8(header.key()) + VARINT + size(header.value());
        }
        return size;
    }

    static boolean truncated(OutboundRecord copy) {
        return "true".equals(copy.headers().get(Topics.HEADER_DLQ_TRUNCATED));
    }

    private static Map<String, String> errorHeaders(InboundRecord bad, ContractViolation violation) {
        return Map.of(
                Topics.HEADER_ERROR_CODE, violation.code().wire(),
                Topics.HEADER_ERROR_MESSAGE, shortened(violation.getMessage()),
                Topics.HEADER_SOURCE_TOPIC, bad.topic(),
                Topics.HEADER_SOURCE_PARTITION, Integer.toString(bad.partition()),
                Topics.HEADER_SOURCE_OFFSET, Long.toString(bad.offset()));
    }

    private static Map<String, String> truncationHeaders(InboundRecord bad) {
        return Map.of(
                Topics.HEADER_DLQ_TRUNCATED, "true",
                Topics.HEADER_DLQ_ORIGINAL_SIZE, Integer.toString(size(bad.value())));
    }

    private static String shortened(String message) {
        String text = message == null ? "" : message;
        return text.length() <= MAX_MESSAGE_CHARS ? text : text.substring(0, MAX_MESSAGE_CHARS);
    }

    private static int size(byte[] bytes) {
        return bytes == null ? 0 : bytes.length;
    }

    private static int utf8(String text) {
        return text == null ? 0 : text.getBytes(StandardCharsets.UTF_8).length;
    }
}
