package dev.dialer.common.contract;

/** A Kafka record that does not honour the contract; it goes to the topic's DLQ with {@link #code()}. */
public final class ContractViolation extends RuntimeException {

    /** Stable error codes, written to the DLQ's {@code dialer.error.code} header. */
    public enum Code {
        NOT_JSON("not_json"),
        SCHEMA_INVALID("schema_invalid"),
        UNKNOWN_VERSION("unknown_version"),
        /**
         * Larger than the dialer can publish again ({@link dev.dialer.common.kafka.Topics#MAX_COMMAND_VALUE_BYTES}):
         * it reached the topic compressed, and a retry, a wait or a re-route of it would be refused for good.
         */
        TOO_LARGE("too_large"),
        /**
         * A valid command found on the wrong partition that could not be published again keyed by its caller ID (for
         * a reason other than an outage: too large for the dialer's producer, say).
         */
        UNROUTABLE("unroutable"),
        /**
         * A valid command whose handling failed for a reason that is neither the command's nor an outage (a defect,
         * or a statement the database refuses for its data): kept, so that it can be replayed once that is put right.
         */
        PROCESSING_ERROR("processing_error");

        private final String wire;

        Code(String wire) {
            this.wire = wire;
        }

        public String wire() {
            return wire;
        }
    }

    private final Code code;

    public ContractViolation(Code code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public Code code() {
        return code;
    }
}
