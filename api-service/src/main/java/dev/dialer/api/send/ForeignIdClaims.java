package dev.dialer.api.send;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/** {@code foreign_id} claims, and the work that must commit with them ({@link ForeignIds} in the service). */
interface ForeignIdClaims {

    /** One recipient's claim. */
    record Claim(String foreignId, String callee, String requestId) {

        String key() {
            return key(foreignId, callee);
        }

        static String key(String foreignId, String callee) {
            return foreignId + "\n" + callee;
        }
    }

    /**
     * Claims every pair not claimed yet, then runs {@code work} with the owner of every pair (the claim's own request
     * id, or an earlier request's for a duplicate); the claims are kept only if {@code work} succeeds.
     */
    <T> Mono<T> claimThen(String accountId, List<Claim> claims, Function<Map<String, String>, Mono<T>> work);
}
