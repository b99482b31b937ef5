package dev.dialer.api.send;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/** {@code foreign_id} claims, and the work that must commit with them ({@link ForeignIds} in the service). */
interface ForeignIdClaims {

    /**
     * One recipient's claim.
     *
     * @param keyCallId the id the request's {@code Idempotency-Key} derives for the recipient; null without a key
     */
    record Claim(String foreignId, String callee, String requestId, String keyCallId) {

        String key() {
            return key(foreignId, callee);
        }

        static String key(String foreignId, String callee) {
            return foreignId + "\n" + callee;
        }
    }

    /**
     * Who owns a pair.
     *
     * @param requestId  the request id the pair is claimed for
     * @param keyCallId  the key-derived id of the recipient that claimed it, when its request had a key: a later try
     *                   of that keyed request knows its own claim by it
     * @param claimedNow whether this very claim made it; otherwise an earlier request did (or a racing one that
     *                   committed first), even when the request ids are equal, as derived ids are
     */
    record Owner(String requestId, String keyCallId, boolean claimedNow) {
    }

    /**
     * Claims every pair not claimed yet, then runs {@code work} with the owner of every pair, keyed by
     * {@link Claim#key()}; the claims are kept only if {@code work} succeeds.
     */
    <T> Mono<T> claimThen(String accountId, List<Claim> claims, Function<Map<String, Owner>, Mono<T>> work);
}
