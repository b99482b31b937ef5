package dev.dialer.api.send;

import dev.dialer.api.PercentDecoding;
import dev.dialer.api.problem.Characters;
import dev.dialer.api.problem.FieldProblem;
import dev.dialer.api.problem.JsonMembers;
import dev.dialer.api.problem.NulCharacters;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.phone.PhoneNumbers;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.cfg.JsonNodeFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Reads an {@code outgoing/send} body. The format is decided by the body, not the Content-Type: the API document's
 * own curl examples send JSON with curl's default {@code application/x-www-form-urlencoded} label, so a body whose
 * first non-blank character is {@code {} is JSON and anything else is read as a form. Both end up as the same
 * field map, so every rule below applies to both alike.
 *
 * <p>Rules: {@code bridge} (at most {@value #MAX_NUMBER} characters) and {@code to} are required, and
 * {@code flow_id} or {@code audio}; {@code to} is one number, a comma-separated list, or (JSON) an array, of at most
 * {@code dialer.api.send.max-recipients} entries (more is a 413 naming {@code to}); {@code variables} is an object or
 * flat {@code variables[Name]} keys, at most {@value #MAX_VARIABLES_BYTES} bytes as JSON; an empty optional value
 * counts as absent (forms send empty inputs). Invalid recipients are kept with their reason; the request fails only
 * when a request-level field is invalid or no recipient is valid, and then every problem is reported, each naming its
 * field. A value (a variable's name too) that holds a NUL character fails the request, wherever it is
 * ({@link NulCharacters}), and so do a JSON member given twice in one object and a number too long to read
 * ({@link JsonMembers}), a field the form gives twice, and a variable given both ways
 * ({@code "variables": {"otp": …}} and {@code "variables[otp]"}): the last one is never taken silently. A JSON member
 * written as a form's recipient ({@code "to[1]"}) is refused, naming it, rather than left a recipient never called.
 */
final class SendRequestParser {

    /** A caller ID in any format (separators, a leading 00) fits: a longer one is refused before it is read. */
    static final int MAX_NUMBER = CallerIdCache.MAX_KEY_CHARS;
    static final int MAX_FLOW_ID = 128;
    static final String MISTYPED_NUMBER = "must be a phone number, as a string or digits";
    static final int MAX_AUDIO = 2048;
    static final int MAX_NAME = 128;
    static final int MAX_WEBHOOK_ID = 64;
    static final int MAX_FOREIGN_ID = 128;
    static final int MAX_VARIABLE_NAME = 64;
    /**
     * The variables as the command carries them (JSON, where a control character takes six bytes): copied into every
     * recipient's command, so a request of {@code max-recipients} calls stays some megabytes, and no command outgrows
     * what Kafka takes ({@link dev.dialer.common.kafka.Topics#MAX_COMMAND_VALUE_BYTES}).
     */
    static final int MAX_VARIABLES_BYTES = 16 * 1024;
    static final int MAX_SOUND_ID = 128;
    static final int MAX_MAX_ATTEMPTS = 10;
    static final int MAX_PRIORITY = 9;
    /** An int's digits with a sign and a zero fraction to spare. */
    private static final int MAX_WHOLE_NUMBER_CHARS = 32;
    /** The last instant RFC 3339 can write, in UTC: its years have four digits. */
    static final Instant LATEST_VALID_UNTIL = Instant.parse("9999-12-31T23:59:59.999999999Z");

    /**
     * Decimal numbers are read as written, not through a double: a variable sent as {@code 10.50} is the text
     * {@code "10.50"} the flow reads out, not {@code "10.5"}.
     */
    private static final JsonMapper JSON = JsonMembers.mapper().rebuild()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .build();
    /** The member whose members are named {@code variables[Name]}. */
    private static final Set<String> KEYED = Set.of("variables");
    /** How the number of an entry of {@code to} given as an object is named, after the entry's name. */
    private static final String NUMBER_SUFFIX = ".number";
    private static final String NOT_A_RECIPIENT = "is not a recipient: write to, to[] or to[0], to[1], … (each one or"
            + " more numbers)";
    private static final Pattern FLAT_VARIABLE = Pattern.compile("variables\\[([^\\]]*)]");
    /** A name that begins as a flat variable's and is not one ({@code variables[Name][first]}). */
    private static final String NOT_A_VARIABLE = "is not a variable: write variables[Name], one level deep, whose "
            + "value is a string";
    /**
     * The fields {@link #validate} reads besides {@code to} and the flat {@code variables[Name]} keys: one a form gives
     * twice is refused. A field the endpoint does not read is ignored however often it comes (a list of the client's
     * own, {@code tags[]=a&tags[]=b}, included).
     */
    private static final Set<String> READ_FIELDS = Set.of("bridge", "flow_id", "audio", "name", "interval",
            "webhook_id", "foreign_id", "variables", "max_attempts", "valid_until", "priority");
    private static final Pattern SCHEME = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*):");
    private static final Pattern SOUND_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    private SendRequestParser() {
    }

    /**
     * @param maxRecipients most entries {@code to} may hold
     * @throws dev.dialer.api.problem.ApiProblem 400: malformed body, or the invalid fields; 413 naming {@code to} when
     *                                           it holds more than {@code maxRecipients} entries
     */
    static SendRequest parse(String body, String defaultRegion, int maxRecipients) {
        return parse(body, StandardCharsets.UTF_8, defaultRegion, maxRecipients);
    }

    /**
     * As {@link #parse(String, String, int)}, for a body whose Content-Type names {@code charset}: the charset a
     * form's percent-encoded bytes are text in.
     */
    static SendRequest parse(String body, Charset charset, String defaultRegion, int maxRecipients) {
        Body read = body(body, charset, maxRecipients);
        return validate(read.fields(), read.recipientNames(), defaultRegion, maxRecipients);
    }

    /**
     * A body's fields, and for a form the name each number in its {@code to} was given: {@code to[2]} for each number
     * of a {@code to[2]=…}, null for one of a {@code to} or {@code to[]}, which the client wrote no index for (and
     * which is named by its place among the numbers). A JSON body's numbers are named by their place in its array, as
     * are all of a form's that mixes the two (none named).
     */
    private record Body(ObjectNode fields, List<String> recipientNames) {
    }

    /** The body as a field map, from JSON or from a form (whose reading stops past {@code maxRecipients}). */
    private static Body body(String body, Charset charset, int maxRecipients) {
        String text = body == null ? "" : body.strip();
        if (text.startsWith("\uFEFF")) {
            // A byte order mark some clients write first; one elsewhere is part of a value (a foreign_id's, say).
            text = text.substring(1).strip();
        }
        if (text.isEmpty()) {
            throw Problems.malformed("The body is empty; send the fields as JSON or as a form.");
        }
        char first = text.charAt(0);
        if (first == '[') {
            throw Problems.malformed("The body must be a JSON object, not an array.");
        }
        if (first == '{') {
            return new Body(json(text), List.of());
        }
        List<String> recipientNames = new ArrayList<>();
        ObjectNode fields = form(text, charset, maxRecipients, recipientNames);
        if (recipientNames.contains(null) && recipientNames.stream().anyMatch(Objects::nonNull)) {
            // to[1]=…&to=…: a place among the numbers could be another's index; every number is named by its place.
            return new Body(fields, List.of());
        }
        return new Body(fields, recipientNames);
    }

    private static ObjectNode json(String text) {
        try {
            JsonNode root = JSON.readTree(text);
            if (!(root instanceof ObjectNode object)) {
                throw Problems.malformed("The body must be a JSON object.");
            }
            return object;
        } catch (JacksonException e) {
            throw JsonMembers.problem(JSON, text, e, "", KEYED, JsonMembers.NOT_VALID_JSON);
        }
    }

    /**
     * {@code a=1&b=2}; a repeated {@code to} (or {@code to[]}) adds recipients, and any other field the endpoint
     * reads given twice (an indexed {@code to[0]} too) is refused, naming it ({@link #READ_FIELDS}, {@code variables[Name]}). In the numbers
     * ({@code to}, {@code bridge}) a literal '+' that begins a number is a plus sign, as the writer meant it
     * ({@code to=+6598765432} from curl's {@code -d}), not the space that form encoding makes of it elsewhere: a number
     * read without its '+' would be read in the account's region too (and refused, where it is a number there as
     * well). Inside a number it is the space a form encoder made ({@code to=%2B91+98765+43215}). The recipients are
     * counted as they are read, and the first one past {@code maxRecipients} ends the reading with the 413: a body of
     * many short repeats costs no more than the limit's worth of them. Percent-encoded bytes are text in
     * {@code charset}, the Content-Type's: a value whose bytes are not, or that holds a '%' not followed by two hex
     * digits, is refused, naming it, before anything else is checked, as is a field given twice; a name that cannot be
     * decoded makes the form malformed. Each number's name is added to {@code recipientNames}, in the order of the
     * numbers in {@code to}: the indexed name that held it ({@code to[1]}, as the client wrote it, whatever the
     * indexes it left out), or null.
     */
    private static ObjectNode form(String text, Charset charset, int maxRecipients, List<String> recipientNames) {
        ObjectNode fields = JSON.createObjectNode();
        List<String> to = new ArrayList<>();
        List<FieldProblem> refused = new ArrayList<>();
        Set<String> repeated = new HashSet<>();
        Set<String> positions = new HashSet<>();
        int recipients = 0;
        for (int start = 0, end; start <= text.length(); start = end + 1) {
            end = text.indexOf('&', start);
            end = end < 0 ? text.length() : end;
            String pair = text.substring(start, end);
            if (pair.isEmpty()) {
                continue;
            }
            int equals = pair.indexOf('=');
            String name;
            try {
                name = PercentDecoding.decode(equals < 0 ? pair : pair.substring(0, equals), charset);
            } catch (PercentDecoding.Undecodable e) {
                throw Problems.malformed("The body is neither JSON nor a valid form: a name " + e.getMessage() + ".");
            }
            boolean recipient = isTo(name);
            if (!recipient && name.startsWith("to[")) {
                // to[0][number]: a nested form that would otherwise be ignored and the request refused for no `to`.
                if (repeated.add(name)) {
                    refused.add(new FieldProblem(name, NOT_A_RECIPIENT));
                }
                continue;
            }
            boolean indexed = recipient && name.length() > "to[]".length();
            if (indexed && !positions.add(name)) {
                // to[0] twice: a list written with the same index twice, not two recipients.
                if (repeated.add(name)) {
                    refused.add(new FieldProblem(name, JsonMembers.GIVEN_TWICE));
                }
                continue;
            }
            if (!recipient && fields.has(name)) {
                if (repeated.add(name)) {
                    refused.add(new FieldProblem(name, JsonMembers.GIVEN_TWICE));
                }
                continue;
            }
            String raw = equals < 0 ? "" : pair.substring(equals + 1);
            boolean number = recipient || name.equals("bridge");
            String value;
            try {
                value = PercentDecoding.decode(number ? leadingPlusSigns(raw) : raw, charset);
            } catch (PercentDecoding.Undecodable e) {
                refused.add(new FieldProblem(name, e.getMessage()));
                if (!recipient && read(name)) {
                    // Taken as given, so that a repeat of it is named too.
                    fields.putNull(name);
                }
                continue;
            }
            if (recipient) {
                int numbers = 1 + (int) value.chars().filter(c -> c == ',').count();
                recipients += numbers;
                if (recipients > maxRecipients) {
                    throw Problems.tooMany("to", "recipients", maxRecipients);
                }
                to.add(value);
                recipientNames.addAll(Collections.nCopies(numbers, indexed ? name : null));
            } else if (read(name)) {
                fields.put(name, value);
            }
        }
        if (!refused.isEmpty()) {
            throw Problems.validation(refused);
        }
        if (!to.isEmpty()) {
            fields.put("to", String.join(",", to));
        }
        return fields;
    }

    /** Whether {@link #validate} reads a form field of this name, other than {@code to}. */
    private static boolean read(String name) {
        return READ_FIELDS.contains(name) || isVariable(name);
    }

    /**
     * Whether a field is a variable as a form writes it, {@code variables[Name]}, or begins as one: a nested one
     * ({@code variables[Name][first]}) is read so as to be refused, not dropped.
     */
    private static boolean isVariable(String name) {
        return name.startsWith("variables[");
    }

    /**
     * Whether a form field names recipients: {@code to}, {@code to[]}, or {@code to[0]}, {@code to[1]}, … as PHP's
     * {@code http_build_query} writes a list (taken in the order they come).
     */
    private static boolean isTo(String name) {
        if (name.equals("to")) {
            return true;
        }
        if (!name.startsWith("to[") || !name.endsWith("]")) {
            return false;
        }
        for (int i = 3; i < name.length() - 1; i++) {
            if (name.charAt(i) < '0' || name.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code raw} with each '+' that begins a number escaped: the value's first, or the first after a comma, spaces
     * between them aside (a literal or encoded space, a literal or encoded comma: {@code to=+9198…, +6598…}). A '+'
     * straight after an encoded comma is the space a form encoder wrote there ({@code "…, 6598…"} is encoded
     * {@code …%2C+6598…}, and {@code "…, +6598…"} {@code …%2C+%2B6598…}): an encoder that encoded the comma would
     * have encoded a plus sign too. Unless the value wrote a plus sign as a literal '+' before it: its writer does not
     * encode plus signs ({@code to=+9198…%2C+6598…}), and the '+' begins a number as the first did.
     */
    static String leadingPlusSigns(String raw) {
        StringBuilder escaped = new StringBuilder(raw.length() + 8);
        boolean numberStarts = true;
        boolean afterEncodedComma = false;
        boolean literalPlus = false;
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '+' && numberStarts && (!afterEncodedComma || literalPlus)) {
                escaped.append("%2B");
                numberStarts = false;
                literalPlus = true;
                continue;
            }
            afterEncodedComma = false;
            escaped.append(c);
            if (c == '%' && i + 2 < raw.length()) {
                String code = raw.substring(i + 1, i + 3);
                if (code.equals("20") || code.equalsIgnoreCase("2C")) {
                    escaped.append(code);
                    i += 2;
                    afterEncodedComma = code.equalsIgnoreCase("2C");
                    numberStarts = numberStarts || afterEncodedComma;
                    continue;
                }
            }
            numberStarts = c == ',' || (c == ' ' && numberStarts);
        }
        return escaped.toString();
    }

    private static SendRequest validate(ObjectNode fields, List<String> recipientNames, String region,
                                        int maxRecipients) {
        List<FieldProblem> errors = new ArrayList<>();
        String bridge = phone(fields, "bridge", errors);
        String callerId = bridge == null ? null : number("bridge", bridge, region, errors);
        List<SendRequest.Recipient> recipients = recipients(fields, recipientNames, region, maxRecipients, errors);
        // A form's recipients are all in "to" by now: such a member is JSON's, and would be a recipient never called.
        fields.propertyNames().stream().filter(name -> name.startsWith("to[")).forEach(name -> errors.add(
                new FieldProblem(name, "is how a form writes a list of recipients; in JSON give them as the \"to\" "
                        + "array")));
        String flowId = optional(fields, "flow_id", MAX_FLOW_ID, errors);
        String audio = optional(fields, "audio", MAX_AUDIO, errors);
        if (audio != null) {
            String problem = audioProblem(audio);
            if (problem != null) {
                errors.add(new FieldProblem("audio", problem));
            }
        }
        if (flowId == null && audio == null && !named(errors, "flow_id") && !named(errors, "audio")) {
            errors.add(new FieldProblem("flow_id", "is required when audio is not given (give flow_id or audio)"));
        }
        String campaign = optional(fields, "name", MAX_NAME, errors);
        int interval = interval(fields, errors);
        String webhookId = optional(fields, "webhook_id", MAX_WEBHOOK_ID, errors);
        String foreignId = optional(fields, "foreign_id", MAX_FOREIGN_ID, errors);
        Map<String, String> variables = variables(fields, errors);
        int maxAttempts = boundedInt(fields, "max_attempts", 1, MAX_MAX_ATTEMPTS, CallCommand.DEFAULT_MAX_ATTEMPTS,
                errors);
        Instant validUntil = validUntil(fields, errors);
        Integer priority = fields.get("priority") == null || fields.get("priority").isNull() ? null
                : boundedInt(fields, "priority", 0, MAX_PRIORITY, 0, errors);
        List<FieldProblem> rejected = recipients.stream().filter(r -> !r.valid())
                .map(r -> new FieldProblem(r.field(), r.error())).toList();
        boolean anyValid = recipients.stream().anyMatch(SendRequest.Recipient::valid);
        if (!errors.isEmpty() || !anyValid) {
            // A set in the order the problems were found: a recipient's problem already named is not named twice,
            // found in constant time (a body can name tens of thousands of problems).
            Set<FieldProblem> all = new LinkedHashSet<>(errors);
            if (!anyValid && recipients.size() > 1) {
                all.add(new FieldProblem("to", "has no valid number"));
            }
            all.addAll(rejected);
            throw Problems.validation(List.copyOf(all));
        }
        return new SendRequest(callerId, recipients, flowId, audio, campaign, interval, webhookId, foreignId,
                variables, maxAttempts, validUntil, priority);
    }

    private static List<SendRequest.Recipient> recipients(ObjectNode fields, List<String> recipientNames,
                                                          String region, int maxRecipients,
                                                          List<FieldProblem> errors) {
        JsonNode node = fields.get("to");
        List<String> raw = new ArrayList<>();
        List<String> foreignIds = new ArrayList<>();
        Set<Integer> mistypedForeignIds = new HashSet<>();
        Set<Integer> mistypedNumbers = new HashSet<>();
        Set<Integer> objects = new HashSet<>();
        Set<Integer> missingNumbers = new HashSet<>();
        boolean array = node != null && node.isArray();
        if (array) {
            for (JsonNode element : node) {
                if (element.isObject()) {
                    objects.add(raw.size());
                    JsonNode number = element.get("number");
                    if (number == null || number.isNull()) {
                        missingNumbers.add(raw.size());
                    }
                    if (number != null && !number.isNull() && !number.isString() && !number.isNumber()) {
                        mistypedNumbers.add(raw.size());
                    }
                    String text = number != null && (number.isString() || number.isNumber()) ? phoneText(number) : "";
                    if (text == null) {
                        mistypedNumbers.add(raw.size());
                    }
                    raw.add(text == null ? number.asString() : text);
                    JsonNode foreign = element.get("foreign_id");
                    if (foreign != null && !foreign.isNull() && !foreign.isString() && !foreign.isNumber()) {
                        mistypedForeignIds.add(foreignIds.size());
                    }
                    foreignIds.add(foreign != null && (foreign.isString() || foreign.isNumber())
                            && !foreign.asString().isBlank() ? foreign.asString().strip() : null);
                } else {
                    if (!element.isNull() && !element.isString() && !element.isNumber()) {
                        mistypedNumbers.add(raw.size());
                    }
                    String text = element.isString() || element.isNumber() ? phoneText(element) : "";
                    if (text == null) {
                        mistypedNumbers.add(raw.size());
                    }
                    raw.add(text == null ? element.asString() : text);
                    foreignIds.add(null);
                }
            }
        } else {
            String to = phone(fields, "to", errors);
            if (to == null) {
                return List.of();
            }
            for (String part : to.split(",", -1)) {
                raw.add(part.strip());
                foreignIds.add(null);
            }
        }
        if (raw.isEmpty()) {
            errors.add(new FieldProblem("to", "is required"));
        }
        if (raw.size() > maxRecipients) {
            // Before a single number is normalised: refusing costs nothing, whatever the list's length.
            throw Problems.tooMany("to", "recipients", maxRecipients, raw.size());
        }
        List<SendRequest.Recipient> recipients = new ArrayList<>(raw.size());
        for (int i = 0; i < raw.size(); i++) {
            // An array's entries are named by index, as JsonMembers names them, even when it holds one; a form's as
            // the client indexed them.
            String entry = i < recipientNames.size() && recipientNames.get(i) != null ? recipientNames.get(i)
                    : array || raw.size() > 1 ? "to[" + i + "]" : "to";
            // An entry given as an object is refused for its number by the member's name, as for its foreign_id.
            String field = objects.contains(i) ? entry + NUMBER_SUFFIX : entry;
            String foreignId = foreignIds.get(i);
            String foreignIdField = entry + SendRequest.Recipient.FOREIGN_ID_SUFFIX;
            if (mistypedForeignIds.contains(i)) {
                // A client that sent true or {...} meant something by it: never read as "no foreign_id".
                errors.add(new FieldProblem(foreignIdField, "must be a string"));
                recipients.add(new SendRequest.Recipient(foreignIdField, raw.get(i), null, "must be a string", null));
                continue;
            }
            String nul = NulCharacters.in(raw.get(i)) ? field
                    : NulCharacters.in(foreignId) ? foreignIdField : null;
            if (nul != null) {
                errors.add(new FieldProblem(nul, NulCharacters.MESSAGE));
                recipients.add(new SendRequest.Recipient(nul, raw.get(i), null, NulCharacters.MESSAGE, null));
                continue;
            }
            if (missingNumbers.contains(i)) {
                // {"mobile": …}: no number was given, not an empty one.
                recipients.add(new SendRequest.Recipient(field, raw.get(i), null, "is required", foreignId));
                continue;
            }
            if (mistypedNumbers.contains(i)) {
                // true, [..] or {..} where a number belongs: said as it is, not as an empty number.
                recipients.add(new SendRequest.Recipient(field, raw.get(i), null, MISTYPED_NUMBER, foreignId));
                continue;
            }
            if (foreignId != null && Characters.moreThan(foreignId, MAX_FOREIGN_ID)) {
                recipients.add(new SendRequest.Recipient(foreignIdField, raw.get(i), null,
                        "must be at most " + MAX_FOREIGN_ID + " characters", null));
                continue;
            }
            PhoneNumbers.Result result = PhoneNumbers.normalize(raw.get(i), region);
            recipients.add(new SendRequest.Recipient(field, raw.get(i), result.e164(), result.error(), foreignId));
        }
        return recipients;
    }

    private static String number(String field, String raw, String region, List<FieldProblem> errors) {
        if (raw.length() > MAX_NUMBER) {
            errors.add(new FieldProblem(field, "must be at most " + MAX_NUMBER + " characters"));
            return null;
        }
        PhoneNumbers.Result result = CallerIdCache.normalize(raw, region);
        if (!result.valid()) {
            errors.add(new FieldProblem(field, result.error()));
        }
        return result.e164();
    }

    private static int interval(ObjectNode fields, List<FieldProblem> errors) {
        String text = scalar(fields, "interval", errors);
        if (text == null) {
            return 0;
        }
        Integer minutes = wholeNumber(text);
        if (minutes != null && CallCommand.INTERVALS.contains(minutes)) {
            return minutes;
        }
        if (!named(errors, "interval")) {
            errors.add(new FieldProblem("interval", "must be one of 0, 5, 15, 30, 45, 60 (minutes)"));
        }
        return 0;
    }

    /** A whole number in [min, max]; {@code otherwise} when absent. */
    private static int boundedInt(ObjectNode fields, String name, int min, int max, int otherwise,
                                  List<FieldProblem> errors) {
        String text = scalar(fields, name, errors);
        if (text == null) {
            return otherwise;
        }
        Integer value = wholeNumber(text);
        if (value != null && value >= min && value <= max) {
            return value;
        }
        if (!named(errors, name)) {
            errors.add(new FieldProblem(name, "must be a whole number from " + min + " to " + max));
        }
        return otherwise;
    }

    /**
     * {@code text} as a whole number, written as digits or with a zero fraction ({@code 15.0}, as JavaScript's and
     * PHP's encoders write a float that holds one, and as the Voice Gateway dialect takes its seconds); null for any
     * other fraction ({@code 15.5}), for text, and for a number beyond an int. A text longer than any int is written
     * with is refused unread: the time to parse a number grows with the square of its length.
     */
    private static Integer wholeNumber(String text) {
        if (text.length() > MAX_WHOLE_NUMBER_CHARS) {
            return null;
        }
        try {
            return new BigDecimal(text).intValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            return null;
        }
    }

    /**
     * An ISO-8601 instant with its offset ({@code 2030-12-31T18:30:00Z}, {@code …+05:30}), in the future, and no later
     * than {@link #LATEST_VALID_UNTIL}: Java reads years past 9999 ({@code +10000-01-01T00:00:00Z}), but the command's
     * {@code date-time} is RFC 3339's, of four-digit years, and the dispatcher would refuse the command after the
     * client was answered 200.
     */
    private static Instant validUntil(ObjectNode fields, List<FieldProblem> errors) {
        String text = scalar(fields, "valid_until", errors);
        if (text == null) {
            return null;
        }
        Instant instant;
        try {
            instant = OffsetDateTime.parse(text).toInstant();
        } catch (DateTimeParseException e) {
            errors.add(new FieldProblem("valid_until",
                    "must be an ISO-8601 date-time with an offset, e.g. 2030-12-31T18:30:00Z"));
            return null;
        }
        if (!instant.isAfter(Instant.now())) {
            errors.add(new FieldProblem("valid_until", "must be in the future"));
            return null;
        }
        if (instant.isAfter(LATEST_VALID_UNTIL)) {
            errors.add(new FieldProblem("valid_until", "must be no later than " + LATEST_VALID_UNTIL));
            return null;
        }
        return instant;
    }

    /**
     * {@code "variables": {...}} and flat {@code "variables[Name]": "..."} keys, merged in body order. A name given
     * both ways is refused, naming it ({@code variables[otp]}), as a JSON member given twice is: neither value is the
     * one meant more than the other.
     */
    private static Map<String, String> variables(ObjectNode fields, List<FieldProblem> errors) {
        Map<String, String> variables = new LinkedHashMap<>();
        Set<String> names = new HashSet<>();
        for (Map.Entry<String, JsonNode> field : fields.properties()) {
            String name = field.getKey();
            JsonNode value = field.getValue();
            if (name.equals("variables")) {
                objectVariables(value, variables, names, errors);
                continue;
            }
            Matcher flat = FLAT_VARIABLE.matcher(name);
            if (flat.matches()) {
                variable(flat.group(1), name, value, variables, names, errors);
            } else if (isVariable(name)) {
                errors.add(new FieldProblem(name, NOT_A_VARIABLE));
            }
        }
        if (Contract.toBytes(variables).length > MAX_VARIABLES_BYTES) {
            errors.add(new FieldProblem("variables", "are too large: at most " + MAX_VARIABLES_BYTES
                    + " bytes as JSON, where a control character takes six"));
        }
        return variables;
    }

    /**
     * An object of names to values; null, a blank string and an empty array are no variables (PHP's
     * {@code json_encode} writes an empty array as {@code []}, whatever it was meant to hold).
     */
    private static void objectVariables(JsonNode value, Map<String, String> variables, Set<String> names,
                                        List<FieldProblem> errors) {
        if (value == null || value.isNull() || (value.isString() && value.asString().isBlank())
                || (value.isArray() && value.isEmpty())) {
            return;
        }
        if (!value.isObject()) {
            errors.add(new FieldProblem("variables", "must be an object of names to values"));
            return;
        }
        for (Map.Entry<String, JsonNode> entry : value.properties()) {
            variable(entry.getKey(), "variables[" + entry.getKey() + "]", entry.getValue(), variables, names,
                    errors);
        }
    }

    /** Reads one variable; {@code names} holds those read before it, whatever became of them. */
    private static void variable(String name, String field, JsonNode value, Map<String, String> variables,
                                 Set<String> names, List<FieldProblem> errors) {
        if (name.isBlank() || name.length() > MAX_VARIABLE_NAME) {
            errors.add(new FieldProblem(field, "needs a name of 1 to " + MAX_VARIABLE_NAME + " characters"));
        } else if (!names.add(name)) {
            errors.add(new FieldProblem(field, JsonMembers.GIVEN_TWICE));
        } else if (NulCharacters.check(field, name, errors)
                || (value != null && value.isString() && NulCharacters.check(field, value.asString(), errors))) {
            // reported by the check
        } else if (value == null || value.isNull()) {
            variables.put(name, "");
        } else if (value.isString() || value.isNumber() || value.isBoolean()) {
            variables.put(name, value.asString());
        } else {
            errors.add(new FieldProblem(field, "must be a string"));
        }
    }

    /** Null when the value is a sound-file id or an absolute http(s) URL. */
    static String audioProblem(String audio) {
        Matcher scheme = SCHEME.matcher(audio);
        if (scheme.lookingAt()) {
            String name = scheme.group(1).toLowerCase(Locale.ROOT);
            if (!name.equals("http") && !name.equals("https")) {
                return "must be a sound-file id or a URL starting with http:// or https://";
            }
            try {
                // The authority's host as written: java.net.URI gives no host for a name it does not take as a
                // host name (an underscore, as in S3 bucket names, or a non-ASCII name), which the carrier fetches.
                String authority = new URI(audio).getRawAuthority();
                String host = authority == null ? ""
                        : authority.substring(authority.lastIndexOf('@') + 1).replaceFirst(":\\d*$", "");
                return host.isEmpty() ? "must be an absolute URL with a host" : null;
            } catch (URISyntaxException e) {
                return "is not a valid URL: " + e.getReason();
            }
        }
        if (audio.length() > MAX_SOUND_ID || !SOUND_ID.matcher(audio).matches()) {
            return "must be a sound-file id (letters, digits, '.', '_', '-') or an http(s) URL";
        }
        return null;
    }

    /** A phone number field, required: a string as {@link #required}, a JSON number as {@link #phoneText}. */
    private static String phone(ObjectNode fields, String name, List<FieldProblem> errors) {
        JsonNode node = fields.get(name);
        if (node == null || !node.isNumber()) {
            return required(fields, name, errors);
        }
        String digits = phoneText(node);
        if (digits == null) {
            errors.add(new FieldProblem(name, MISTYPED_NUMBER));
        }
        return digits;
    }

    /**
     * A phone number's text from a string or number node. A number is its digits, written whole or with a zero
     * fraction ({@code 4930123456.0}, as a float column of pandas or a JavaScript encoder writes one); null for a
     * number with any other fraction or with more digits than a phone number's text may have, since no digits would
     * read it right (the text {@code 4930123456.0} read as digits is another number, one 0 longer).
     */
    static String phoneText(JsonNode node) {
        if (!node.isNumber() || node.isIntegralNumber()) {
            return node.asString().strip();
        }
        BigDecimal value = node.decimalValue().stripTrailingZeros();
        return value.scale() > 0 || value.precision() - value.scale() > MAX_NUMBER ? null : value.toPlainString();
    }

    private static String required(ObjectNode fields, String name, List<FieldProblem> errors) {
        String value = scalar(fields, name, errors);
        if (value == null && !named(errors, name)) {
            errors.add(new FieldProblem(name, "is required"));
        }
        return value;
    }

    private static String optional(ObjectNode fields, String name, int maxLength, List<FieldProblem> errors) {
        String value = scalar(fields, name, errors);
        if (value != null && Characters.moreThan(value, maxLength)) {
            errors.add(new FieldProblem(name, "must be at most " + maxLength + " characters"));
            return null;
        }
        return value;
    }

    /** A string or number field, stripped; null when absent, null or blank. */
    private static String scalar(ObjectNode fields, String name, List<FieldProblem> errors) {
        JsonNode node = fields.get(name);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isString() && !node.isNumber()) {
            errors.add(new FieldProblem(name, "must be a string or a number"));
            return null;
        }
        String value = node.asString().strip();
        if (NulCharacters.check(name, value, errors)) {
            return null;
        }
        return value.isEmpty() ? null : value;
    }

    private static boolean named(List<FieldProblem> errors, String field) {
        return errors.stream().anyMatch(error -> error.field().equals(field));
    }
}
