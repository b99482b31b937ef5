package dev.dialer.api.dnc;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.dialer.api.openapi.ApiDocs;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.List;

/**
 * The DNC request bodies as the OpenAPI document describes them. The controller reads them by hand (the entry's
 * reason in {@link DncController}, the import in {@link DncImport}, whatever the Content-Type says), so these types
 * only document them.
 */
final class DncDocs {

    /** A realistic JSON import: a bare number and a row with its reason. */
    static final String IMPORT_JSON = """
            ["919876543215",{"number":"+91 98765 43216","reason":"Asked not to be called on 2024-07-10"}]""";
    /** The same import as CSV, with its optional header line. */
    static final String IMPORT_CSV = """
            number,reason
            919876543215
            +91 98765 43216,Asked not to be called on 2024-07-10
            """;

    private DncDocs() {
    }

    /** The optional body of a PUT of one number. */
    @Schema(name = "DncEntryRequest", description = "`number` and `added_at` (the entry as it was answered) are read "
            + "only; any other field is a 400 naming it")
    record Entry(@JsonProperty("reason") @Schema(types = {"string", "null"}, maxLength = DncImport.MAX_REASON,
            description = "Why the number is on the list (none when absent, null or blank)",
            example = "Asked not to be called on 2024-07-10") String reason) {
    }

    /** An entry of the list, as the endpoints answer it. */
    @Schema(name = "DncEntry")
    record EntryView(@JsonProperty("number") @Schema(description = "E.164", example = "+919876543215") String number,
                     @JsonProperty("reason") @Schema(types = {"string", "null"}) String reason,
                     @JsonProperty("added_at") @Schema(format = "date-time") String addedAt) {
    }

    /** What an import added and refused. */
    @Schema(name = "DncImportResult")
    record ImportResult(@JsonProperty("added") @Schema(description = "Rows added (or updated)") int added,
                        @JsonProperty("rejected") @Schema(description = "Rows refused") int rejected,
                        @JsonProperty("errors") @ArraySchema(schema = @Schema(ref = ApiDocs.FIELD_PROBLEM),
                                arraySchema = @Schema(description = "Each refused row, with its field"))
                        List<?> errors) {
    }

    /** An item of a JSON import: a number, or a number with its reason. */
    @Schema(name = "DncImportItem", oneOf = {String.class, Row.class}, description = "A number read in the "
            + "account's region (a JSON number is read as its digits), or a `{number, reason}` object")
    interface Item {
    }

    /** A row with a reason. */
    @Schema(name = "DncImportRow", requiredProperties = "number",
            additionalProperties = Schema.AdditionalPropertiesValue.FALSE)
    record Row(@JsonProperty("number") @Schema(description = "Read in the account's region (a JSON number is read "
                       + "as its digits)", example = "+91 98765 43216") String number,
               @JsonProperty("reason") @Schema(types = {"string", "null"}, maxLength = DncImport.MAX_REASON,
                       example = "Asked not to be called on 2024-07-10") String reason) {
    }
}
