package dev.dialer.common.contract;

import com.fasterxml.jackson.annotation.JsonInclude;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON form of every Kafka record the dialer exchanges: snake_case names, ISO-8601 instants, absent
 * fields left out, unknown fields ignored (so a newer producer does not break an older consumer).
 */
public final class Contract {

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
     * @throws ContractViolation when the bytes are not JSON of that shape
     */
    public static <T> T read(byte[] json, Class<T> type) {
        try {
            return MAPPER.readValue(json, type);
        } catch (JacksonException e) {
            throw new ContractViolation(ContractViolation.Code.NOT_JSON, e.getOriginalMessage());
        }
    }
}
