package dev.dialer.common.contract;

import com.fasterxml.jackson.annotation.JsonInclude;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.core.ObjectReadContext;
import tools.jackson.core.StreamReadConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON form of every Kafka record the dialer exchanges: snake_case names, ISO-8601 instants, absent
 * fields left out, unknown fields ignored (so a newer producer does not break an older consumer).
 */
public final class Contract {

    /** A parser that takes nesting as deep as the schemas' validator (Jackson 2, its default constraints) does. */
    private static final JsonFactory AS_DEEP_AS_THE_VALIDATOR = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(com.fasterxml.jackson.core.StreamReadConstraints.DEFAULT_MAX_DEPTH).build())
            .build();

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .changeDefaultPropertyInclusion(incl -> incl.withValueInclusion(JsonInclude.Include.NON_NULL))
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    private Contract() {
    }

    /** The contract's mapper, for services that need to read or write other shapes the same way. */
    public static JsonMapper mapper() {
        return MAPPER;
    }

    public static byte[] toBytes(Object record) {
        return MAPPER.writeValueAsBytes(record);
    }

    public static String toJson(Object record) {
        return MAPPER.writeValueAsString(record);
    }

    /**
     * Reads a record of {@code type}.
     *
     * @throws ContractViolation {@code not_json} when the bytes are not one JSON value (nothing, a parse error, more
     *                           after the first value); {@code schema_invalid} for one JSON value {@code type} cannot
     *                           hold (another shape, a number beyond an int)
     */
    public static <T> T read(byte[] json, Class<T> type) {
        try {
            return MAPPER.readValue(json, type);
        } catch (JacksonException e) {
            throw new ContractViolation(isOneJsonValue(json) ? ContractViolation.Code.SCHEMA_INVALID
                    : ContractViolation.Code.NOT_JSON, e.getOriginalMessage());
        }
    }

    /**
     * Whether {@code value} is exactly one JSON value, white space around it aside. Read as deep as the schemas'
     * validator reads (1,000 levels), so that a value nested deeper than the record's reader reads (500) is JSON the
     * record cannot hold, not something else.
     */
    static boolean isOneJsonValue(byte[] value) {
        if (value == null) {
            return false;
        }
        try (JsonParser parser = AS_DEEP_AS_THE_VALIDATOR.createParser(ObjectReadContext.empty(), value)) {
            if (parser.nextToken() == null) {
                return false;
            }
            parser.skipChildren();
            return parser.nextToken() == null;
        } catch (JacksonException e) {
            return false;
        }
    }
}
