package dev.dialer.api.dnc;

import dev.dialer.api.problem.Characters;
import dev.dialer.api.problem.FieldProblem;
import dev.dialer.api.problem.JsonMembers;
import dev.dialer.api.problem.NulCharacters;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.phone.PhoneNumbers;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads a bulk DNC import: a JSON array of numbers or {@code {number, reason}} objects, or text with one
 * {@code number[,reason]} per line (CSV; a first line {@code number,reason} is a header and skipped). Each row is
 * normalised in the account's region; invalid rows are reported by index ({@code rows[i]}, counting the rows the
 * body holds, blank lines excluded) and do not stop the valid ones; so is a row whose reason holds a NUL character,
 * which no database column could store. A JSON member given twice in one row fails the import, naming it
 * ({@code rows[3].number}, {@link JsonMembers}): Jackson would keep the last one silently, and
 * {@code {"number": "…210", "number": "…211"}} would put one number on the list and say nothing of the other. A
 * row's object is read as a {@code PUT}'s body is: a member other than {@code number} and {@code reason} is named
 * ({@code rows[3].Reason}) and the row refused, rather than added without the reason it misspelt; a row without a
 * {@code number} names it ({@code rows[3].number}).
 */
final class DncImport {

    static final int MAX_ROWS = 10_000;
    static final int MAX_REASON = 256;
    private static final JsonMapper JSON = JsonMembers.mapper();
    private static final Set<String> ROW_MEMBERS = Set.of("number", "reason");
    private static final String NOT_A_MEMBER = "is not a field of a DNC row (known: number, reason)";

    /** A valid row. */
    record Row(String e164, String reason) {
    }

    /**
     * The valid rows, de-duplicated by number (the last reason wins), and what was wrong with the others.
     *
     * @param rejected     every problem found, a row's several members named one by one
     * @param refusedRows  how many rows were refused: what the answer's {@code rejected} counts
     */
    record Parsed(List<Row> rows, List<FieldProblem> rejected, int refusedRows) {
    }

    /** A row as the body gives it, not yet normalised; {@code refused} names what makes it invalid already. */
    private record Raw(String number, String reason, List<FieldProblem> refused) {

        Raw(String number, String reason) {
            this(number, reason, List.of());
        }
    }

    private DncImport() {
    }

    static Parsed parse(String body, String region) {
        String text = body == null ? "" : body.replace("\uFEFF", "").strip();
        if (text.isEmpty()) {
            throw Problems.malformed("The body is empty; send a JSON array or one number per line.");
        }
        List<Raw> raw = text.charAt(0) == '[' ? json(text) : lines(text);
        if (raw.size() > MAX_ROWS) {
            throw Problems.validation("rows", "must be at most " + MAX_ROWS + " per request (got " + raw.size() + ")");
        }
        Map<String, Row> rows = new LinkedHashMap<>();
        List<FieldProblem> rejected = new ArrayList<>();
        int refusedRows = 0;
        for (int i = 0; i < raw.size(); i++) {
            int problemsBefore = rejected.size();
            parseRow(raw.get(i), i, region, rows, rejected);
            if (rejected.size() > problemsBefore) {
                refusedRows++;
            }
        }
        return new Parsed(List.copyOf(rows.values()), rejected, refusedRows);
    }

    /** Adds the row to {@code rows}, or what is wrong with it to {@code rejected}. */
    private static void parseRow(Raw row, int i, String region, Map<String, Row> rows, List<FieldProblem> rejected) {
        String field = "rows[" + i + "]";
        String number = row.number();
        String reason = row.reason();
        if (!row.refused().isEmpty()) {
            rejected.addAll(row.refused());
            return;
        }
        if (reason != null && Characters.moreThan(reason, MAX_REASON)) {
            rejected.add(new FieldProblem(field + ".reason", "must be at most " + MAX_REASON + " characters"));
            return;
        }
        if (NulCharacters.check(field + ".reason", reason, rejected)) {
            return;
        }
        PhoneNumbers.Result result = PhoneNumbers.normalize(number, region);
        if (result.valid()) {
            rows.put(result.e164(), new Row(result.e164(), reason));
        } else {
            rejected.add(new FieldProblem(field, result.error()));
        }
    }

    private static List<Raw> json(String text) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JacksonException e) {
            throw JsonMembers.problem(JSON, text, e, "rows", Set.of(), JsonMembers.NOT_VALID_JSON);
        }
        List<Raw> raw = new ArrayList<>(root.size());
        for (JsonNode entry : root) {
            if (entry.isString() || entry.isNumber()) {
                raw.add(new Raw(entry.asString().strip(), null));
            } else if (entry.isObject()) {
                raw.add(row(entry, "rows[" + raw.size() + "]."));
            } else {
                raw.add(new Raw("", null));
            }
        }
        return raw;
    }

    /** A row's object: its number and reason, or every member that makes it invalid, named after {@code prefix}. */
    private static Raw row(JsonNode entry, String prefix) {
        JsonNode number = entry.get("number");
        JsonNode reason = entry.get("reason");
        List<FieldProblem> refused = new ArrayList<>();
        if (number == null || number.isNull()) {
            refused.add(new FieldProblem(prefix + "number", "is required"));
        } else if (number.isContainer()) {
            // An object or an array is no number, and reading it as text fails: the row is refused.
            refused.add(new FieldProblem(prefix + "number", "must be a string"));
        }
        if (reason != null && reason.isContainer()) {
            refused.add(new FieldProblem(prefix + "reason", "must be a string"));
        }
        JsonMembers.refuseUnknown(entry, ROW_MEMBERS, prefix, NOT_A_MEMBER, refused);
        if (!refused.isEmpty()) {
            return new Raw("", null, List.copyOf(refused));
        }
        return new Raw(number.asString().strip(), reason == null || reason.isNull() ? null : reason.asString().strip());
    }

    private static List<Raw> lines(String text) {
        List<Raw> raw = new ArrayList<>();
        boolean first = true;
        for (String line : text.split("\\r?\\n")) {
            String stripped = line.strip();
            if (stripped.isEmpty()) {
                continue;
            }
            if (first && stripped.toLowerCase(java.util.Locale.ROOT).startsWith("number")) {
                first = false;
                continue;
            }
            first = false;
            int comma = stripped.indexOf(',');
            String number = comma < 0 ? stripped : stripped.substring(0, comma).strip();
            String reason = comma < 0 ? null : unquote(stripped.substring(comma + 1).strip());
            raw.add(new Raw(unquote(number), reason == null || reason.isEmpty() ? null : reason));
        }
        return raw;
    }

    private static String unquote(String value) {
        return value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")
                ? value.substring(1, value.length() - 1).replace("\"\"", "\"") : value;
    }
}
