package dev.dialer.api.send;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A validated {@code outgoing/send} request. Request-level fields are all valid; recipients are valid or carry the
 * reason they are not, and at least one is valid.
 *
 * @param callerId        {@code bridge} in E.164
 * @param recipients      {@code to}, in the order given
 * @param flowId          IVR flow, or null
 * @param audio           sound-file id or http(s) URL, or null (one of flowId/audio is set)
 * @param campaign        {@code name}, or null
 * @param intervalMinutes retry interval, one of 0, 5, 15, 30, 45, 60
 * @param webhookId       webhook to notify, or null (its ownership is checked against the account later)
 * @param foreignId       the client's reference, or null
 * @param variables       values for the flow, never null
 * @param maxAttempts     attempts allowed when {@code intervalMinutes > 0}
 * @param validUntil      the call is not placed after this instant, or null
 * @param priority        0 (default) to 9, higher first within a caller ID's lane
 */
record SendRequest(String callerId, List<Recipient> recipients, String flowId, String audio, String campaign,
                   int intervalMinutes, String webhookId, String foreignId, Map<String, String> variables,
                   int maxAttempts, Instant validUntil, Integer priority) {

    /**
     * The recipient's own {@code foreign_id}, else the request's; none for a recipient refused for its own (its row
     * must not show the request's as if it were the recipient's).
     */
    String foreignIdOf(Recipient recipient) {
        if (recipient.foreignId() != null) {
            return recipient.foreignId();
        }
        return recipient.refusedForItsForeignId() ? null : foreignId;
    }

    /**
     * One entry of {@code to}.
     *
     * @param field the name to report it under: {@code to} for a single number, {@code to[i]} in a list or a JSON
     *              array (one of a single entry too), a form's index as the client wrote it ({@code to[5]}),
     *              {@code to[i].number} for an entry given as an object, {@code to[i].foreign_id} where that is
     *              what is wrong
     * @param raw   the number as given
     * @param e164  the normalised number, null when invalid
     * @param error why it is invalid, null when valid
     * @param foreignId the recipient's own client reference ({@code to: [{number, foreign_id}]}), or null
     */
    record Recipient(String field, String raw, String e164, String error, String foreignId) {

        static final String FOREIGN_ID_SUFFIX = ".foreign_id";

        Recipient(String field, String raw, String e164, String error) {
            this(field, raw, e164, error, null);
        }

        boolean valid() {
            return e164 != null;
        }

        /** Whether it was refused for its own {@code foreign_id} (too long, not a string, holding a NUL). */
        boolean refusedForItsForeignId() {
            return error != null && field.endsWith(FOREIGN_ID_SUFFIX);
        }
    }
}
