package dev.dialer.common.contract;

import dev.dialer.common.kafka.Topics;
import dev.dialer.common.phone.PhoneNumbers;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * Reads {@code dialer.call.commands} values as upstream systems write them: checks the version, validates against
 * {@code schemas/call-command.v1.json} and maps to {@link CallCommand}. Anything else is a {@link ContractViolation}.
 */
public final class CommandReader {

    /** The schema's caller ID, matched whole. */
    private static final Pattern CALLER_ID = Pattern.compile("\\+[1-9][0-9]{5,14}");

    private final ContractSchema schema = ContractSchema.of("schemas/call-command.v1.json");

    /**
     * @throws ContractViolation naming what is wrong (not JSON, schema-invalid, unknown version)
     */
    public CallCommand read(byte[] value) {
        if (value == null || value.length == 0) {
            throw new ContractViolation(ContractViolation.Code.NOT_JSON, "empty value");
        }
        if (value.length > Topics.MAX_COMMAND_VALUE_BYTES) {
            throw new ContractViolation(ContractViolation.Code.TOO_LARGE, value.length + " bytes, more than the "
                    + Topics.MAX_COMMAND_VALUE_BYTES + " a command may have uncompressed");
        }
        String json = new String(value, StandardCharsets.UTF_8);
        schema.validate(json);
        // Read before the NUL check: more after the value, or bytes that are not UTF-8, are not JSON, whatever the
        // value holds.
        CallCommand command = Contract.read(value, CallCommand.class);
        if (hasNul(json)) {
            // PostgreSQL stores no U+0000 in text or jsonb: the dispatcher could not record the call. Looked for in
            // the command as read, so a field the dialer ignores (and never stores) may hold one.
            String at = nulAt(Contract.mapper().valueToTree(command), "$");
            if (at != null) {
                throw new ContractViolation(ContractViolation.Code.SCHEMA_INVALID,
                        at + ": text may not contain U+0000 (NUL)");
            }
        }
        if (!CALLER_ID.matcher(command.callerId()).matches()) {
            // The schema's pattern is searched for, and its $ matches before a final line break: "+4930123456\n"
            // passed it, and would have been a lane, a rate and an allowed caller ID of its own.
            throw new ContractViolation(ContractViolation.Code.SCHEMA_INVALID,
                    "$.caller_id: not an E.164 number (+ and 6 to 15 digits, nothing after them)");
        }
        if (command.attempt() > command.allowedAttempts()) {
            // The dialer's own retries stop at the last allowed attempt: a later one is no attempt of this request.
            throw new ContractViolation(ContractViolation.Code.SCHEMA_INVALID, "$.attempt: " + command.attempt()
                    + " is past the " + command.allowedAttempts() + " the command allows (max_attempts, or 1 when "
                    + "interval_minutes is 0)");
        }
        if (Destination.kindOf(command.to()) == Destination.Kind.UNKNOWN) {
            // The schema's patterns are looser than the dialer's reading (a SIP URI needs a host): refused here, not
            // at the carrier.
            throw new ContractViolation(ContractViolation.Code.SCHEMA_INVALID,
                    "$.to: not an E.164 number, a sip:/sips: URI with a host, nor user:<name>");
        }
        CallCommand read = canonicalCaller(canonicalCallee(command));
        if (value.length > Topics.MAX_COMMAND_VALUE_BYTES / 2) {
            // The dialer publishes the command again as it writes it (a retry, a wait, a re-route), which may be
            // longer than the producer's text: 1e9 is written 1.0E9. Written so, it must fit too, or the request
            // would fail at its first wait rather than be refused now. A short value cannot grow that much.
            int written = Contract.toBytes(read).length;
            if (written > Topics.MAX_COMMAND_VALUE_BYTES) {
                throw new ContractViolation(ContractViolation.Code.TOO_LARGE, written + " bytes as the dialer writes "
                        + "it again, more than the " + Topics.MAX_COMMAND_VALUE_BYTES + " a command may have");
            }
        }
        return read;
    }

    /**
     * The command with its callee number in canonical E.164, as the API writes it: a producer's {@code +4402071234567}
     * (a national trunk 0 kept after the country code) is {@code +442071234567}, the number the DNC list and the
     * per-callee cap know. A number libphonenumber cannot read as a valid one is kept as written.
     */
    private static CallCommand canonicalCallee(CallCommand command) {
        if (!Destination.isPhone(command.to())) {
            return command;
        }
        String canonical = PhoneNumbers.canonical(command.to());
        return canonical.equals(command.to()) ? command : command.withTo(canonical);
    }

    /**
     * The command with its caller ID in canonical E.164, as the API writes it: the account's allowed caller IDs, the
     * caller ID's lane and its rate know that form. A record keyed by another spelling is then misplaced for its key
     * and is re-routed, keyed by the canonical one.
     */
    private static CallCommand canonicalCaller(CallCommand command) {
        String canonical = PhoneNumbers.canonical(command.callerId());
        return canonical.equals(command.callerId()) ? command : command.withCallerId(canonical);
    }

    /**
     * Whether the JSON text escapes a U+0000: a backslash and {@code u0000}, the backslash not itself escaped (preceded
     * by an even number of backslashes). A raw U+0000 is not JSON, so the schema check refused it already.
     */
    static boolean hasNul(String json) {
        for (int at = json.indexOf("\\u0000"); at >= 0; at = json.indexOf("\\u0000", at + 1)) {
            int backslashes = 0;
            for (int i = at; i >= 0 && json.charAt(i) == '\\'; i--) {
                backslashes++;
            }
            if (backslashes % 2 == 1) {
                return true;
            }
        }
        return false;
    }

    /** The path of the first name or text holding U+0000, for the violation's message; null when none does. */
    private static String nulAt(JsonNode node, String path) {
        if (node.isString()) {
            return node.stringValue().indexOf('\0') >= 0 ? path : null;
        }
        if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                String found = nulAt(node.get(i), path + "[" + i + "]");
                if (found != null) {
                    return found;
                }
            }
        }
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            String at = path + "." + field.getKey();
            if (field.getKey().indexOf('\0') >= 0) {
                return at;
            }
            String found = nulAt(field.getValue(), at);
            if (found != null) {
                return found;
            }
        }
        return null;
    }
}
