package dev.dialer.common.contract;

import com.networknt.schema.InputFormat;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reads {@code dialer.call.commands} values as upstream systems write them: checks the version, validates against
 * {@code schemas/call-command.v1.json} and maps to {@link CallCommand}. Anything else is a {@link ContractViolation}.
 */
public final class CommandReader {

    private final JsonSchema schema = load("schemas/call-command.v1.json");

    /**
     * @throws ContractViolation naming what is wrong (not JSON, schema-invalid, unknown version)
     */
    public CallCommand read(byte[] value) {
        if (value == null || value.length == 0) {
            throw new ContractViolation(ContractViolation.Code.NOT_JSON, "empty value");
        }
        String json = new String(value, StandardCharsets.UTF_8);
        Set<ValidationMessage> errors;
        try {
            errors = schema.validate(json, InputFormat.JSON);
        } catch (RuntimeException e) {
            throw new ContractViolation(ContractViolation.Code.NOT_JSON, e.getMessage());
        }
        if (!errors.isEmpty()) {
            throw new ContractViolation(versionError(errors) ? ContractViolation.Code.UNKNOWN_VERSION
                    : ContractViolation.Code.SCHEMA_INVALID, describe(errors));
        }
        return Contract.read(value, CallCommand.class);
    }

    private static boolean versionError(Set<ValidationMessage> errors) {
        return errors.stream().anyMatch(e -> e.getInstanceLocation().toString().equals("$.version"));
    }

    private static String describe(Set<ValidationMessage> errors) {
        return errors.stream().map(ValidationMessage::getMessage).sorted().collect(Collectors.joining("; "));
    }

    static JsonSchema load(String resource) {
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
        try (InputStream in = CommandReader.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing schema " + resource);
            }
            return factory.getSchema(new String(in.readAllBytes(), StandardCharsets.UTF_8), InputFormat.JSON);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
