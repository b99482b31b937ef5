package dev.dialer.common.contract;

import com.networknt.schema.InputFormat;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.PathType;
import com.networknt.schema.SchemaValidatorsConfig;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One of the contract's JSON Schemas ({@code schemas/*.json}), for reading a record as the schema says: what it
 * refuses is a {@link ContractViolation} that names it.
 */
public final class ContractSchema {

    private final JsonSchema schema;

    private ContractSchema(JsonSchema schema) {
        this.schema = schema;
    }

    /** The schema at {@code resource}, e.g. {@code schemas/dnc-entry.v1.json}. */
    public static ContractSchema of(String resource) {
        return new ContractSchema(load(resource));
    }

    /**
     * Checks {@code json} against the schema. The validator reads the first JSON value and ignores what follows it: a
     * value it refuses is {@code not_json} all the same when more follows it (one it takes is refused by the reader,
     * {@link Contract#read}).
     *
     * @throws ContractViolation {@code not_json}, {@code unknown_version} (the version is what is wrong) or
     *                           {@code schema_invalid}, naming what is wrong
     */
    public void validate(String json) {
        Set<ValidationMessage> errors;
        try {
            errors = schema.validate(json, InputFormat.JSON);
        } catch (RuntimeException e) {
            throw new ContractViolation(ContractViolation.Code.NOT_JSON, parserMessage(e));
        }
        if (!errors.isEmpty()) {
            if (!Contract.isOneJsonValue(json.getBytes(StandardCharsets.UTF_8))) {
                throw new ContractViolation(ContractViolation.Code.NOT_JSON, "more follows the first JSON value");
            }
            throw new ContractViolation(versionError(errors) ? ContractViolation.Code.UNKNOWN_VERSION
                    : ContractViolation.Code.SCHEMA_INVALID, describe(errors));
        }
    }

    /**
     * What the JSON parser said of the value, with where it stopped, on one line: the validator wraps it in an
     * exception of its own that says only "Invalid input" (the parser names no source: the value is not echoed).
     */
    static String parserMessage(Throwable thrown) {
        String message = thrown.getMessage();
        for (Throwable cause = thrown.getCause(); cause != null && cause != thrown; cause = cause.getCause()) {
            if (cause.getMessage() != null) {
                message = cause.getMessage();
            }
        }
        return message == null ? null : message.replace('\n', ' ').replaceAll("\\[Source: [^;]*; line", "[line");
    }

    /**
     * Checks {@code value} against the schema, then reads it as {@code type}.
     *
     * @throws ContractViolation as {@link #validate(String)}; {@code schema_invalid} for a value the schema takes
     *                           that {@code type} cannot hold
     */
    public <T> T read(byte[] value, Class<T> type) {
        if (value == null || value.length == 0) {
            throw new ContractViolation(ContractViolation.Code.NOT_JSON, "empty value");
        }
        validate(new String(value, StandardCharsets.UTF_8));
        // The reader refuses what the validator ignores: more after the first JSON value (not JSON).
        return Contract.read(value, type);
    }

    /** Whether the version is wrong or missing: without one, the reader cannot say which schema the record meant. */
    private static boolean versionError(Set<ValidationMessage> errors) {
        return errors.stream().anyMatch(e -> e.getInstanceLocation().toString().equals("$.version")
                || "required".equals(e.getType()) && "version".equals(e.getProperty()));
    }

    private static String describe(Set<ValidationMessage> errors) {
        return errors.stream().map(ValidationMessage::getMessage).sorted().collect(Collectors.joining("; "));
    }

    /**
     * The schema at {@code resource}, its formats asserted: draft 2020-12 makes {@code format} a label only, and
     * without this a {@code date-time} such as {@code "1767225600000"} (epoch milliseconds) passed, to be read as
     * epoch seconds, a {@code valid_until} some 55,000 years ahead.
     */
    static JsonSchema load(String resource) {
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
        SchemaValidatorsConfig config = SchemaValidatorsConfig.builder().formatAssertionsEnabled(true)
                .pathType(PathType.LEGACY).build();
        try (InputStream in = ContractSchema.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing schema " + resource);
            }
            return factory.getSchema(new String(in.readAllBytes(), StandardCharsets.UTF_8), InputFormat.JSON, config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
