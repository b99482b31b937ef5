package dev.dialer.api.delivery;

import dev.dialer.api.problem.FieldProblem;
import dev.dialer.api.problem.NulCharacters;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.contract.DeliveryAttempt;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Filters and position of a delivery log page.
 *
 * @param eventId only the attempts of this event
 * @param outcome only attempts that ended so ({@code delivered}, {@code retrying}, {@code dead}, {@code refused})
 * @param limit   rows per page
 * @param after   the last row of the previous page, or null for the newest
 */
record DeliveryQuery(String eventId, String outcome, int limit, Position after) {

    static final int DEFAULT_LIMIT = 50;
    static final int MAX_LIMIT = 200;
    static final List<String> OUTCOMES = Stream.of(DeliveryAttempt.Outcome.values())
            .map(DeliveryAttempt.Outcome::wire).toList();

    /**
     * Where a page ended: the opaque cursor is its base64url form. Clients can make one by hand, so {@link #of}
     * accepts only what a row could hold: a time from 1970 to the year 9999 (one outside PostgreSQL's range, or the
     * driver's, would fail the query) and an id without a NUL character.
     */
    record Position(Instant attemptedAt, String attemptId) {

        private static final Instant LAST = Instant.parse("9999-12-31T23:59:59.999999999Z");

        String cursor() {
            String plain = attemptedAt.getEpochSecond() + "." + attemptedAt.getNano() + ":" + attemptId;
            return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
        }

        static Position of(String cursor) {
            String plain = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            int colon = plain.indexOf(':');
            int dot = plain.indexOf('.');
            if (colon < 0 || dot < 0 || dot > colon) {
                throw new IllegalArgumentException("no position");
            }
            Instant attemptedAt = Instant.ofEpochSecond(Long.parseLong(plain.substring(0, dot)),
                    Long.parseLong(plain.substring(dot + 1, colon)));
            String attemptId = plain.substring(colon + 1);
            if (attemptedAt.isBefore(Instant.EPOCH) || attemptedAt.isAfter(LAST) || NulCharacters.in(attemptId)) {
                throw new IllegalArgumentException("no position a row could have");
            }
            return new Position(attemptedAt, attemptId);
        }
    }

    /**
     * A filter given empty ({@code ?event_id=}, from a client whose id was empty) would list other deliveries as if
     * they were the ones asked for: refused, as the calls list refuses one.
     */
    private static void refuseEmpty(String name, String value, List<FieldProblem> errors) {
        if (value != null && value.isBlank()) {
            errors.add(new FieldProblem(name, "is empty: leave the parameter out to list deliveries of any " + name));
        }
    }

    /** Reads the query parameters; a bad one is a 400 naming it. */
    static DeliveryQuery of(String eventId, String outcome, String limit, String cursor) {
        List<FieldProblem> errors = new ArrayList<>();
        refuseEmpty("event_id", eventId, errors);
        refuseEmpty("outcome", outcome, errors);
        String normalOutcome = outcome == null || outcome.isBlank() ? null : outcome.strip().toLowerCase(Locale.ROOT);
        if (normalOutcome != null && !OUTCOMES.contains(normalOutcome)) {
            errors.add(new FieldProblem("outcome", "must be one of " + OUTCOMES));
        }
        int pageSize = DEFAULT_LIMIT;
        if (limit != null && !limit.isBlank()) {
            try {
                pageSize = Integer.parseInt(limit.strip());
            } catch (NumberFormatException e) {
                pageSize = -1;
            }
            if (pageSize < 1 || pageSize > MAX_LIMIT) {
                errors.add(new FieldProblem("limit", "must be a whole number from 1 to " + MAX_LIMIT));
            }
        }
        Position after = null;
        if (cursor != null && !cursor.isBlank()) {
            try {
                after = Position.of(cursor.strip());
            } catch (RuntimeException e) {
                errors.add(new FieldProblem("cursor", "is not a cursor this API returned"));
            }
        }
        if (!errors.isEmpty()) {
            throw Problems.validation(errors);
        }
        return new DeliveryQuery(eventId == null || eventId.isBlank() ? null : eventId.strip(), normalOutcome,
                pageSize, after);
    }
}
