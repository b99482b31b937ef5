package dev.dialer.api.send;

import dev.dialer.api.calls.AcceptedCalls;
import dev.dialer.api.settings.AccountSettingsLookup;
import dev.dialer.common.contract.AccountSettings;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.springframework.dao.DataAccessResourceFailureException;
import reactor.core.publisher.Mono;

/** The send path's database-backed collaborators, in memory, for tests that run without PostgreSQL. */
final class SendSeams {

    private SendSeams() {
    }

    static AccountSettingsLookup defaults() {
        return accountId -> Mono.just(AccountSettings.defaults(accountId));
    }

    static AccountSettingsLookup settings(AccountSettings settings) {
        return accountId -> Mono.just(settings);
    }

    static AcceptedCalls noLedger() {
        return (accountId, calls, createdAt) -> Mono.empty();
    }

    /** Claims kept in a map; kept only when the work succeeds, as the database's transaction does. */
    static final class InMemoryClaims implements ForeignIdClaims {

        final Map<String, Claim> owners = new ConcurrentHashMap<>();

        @Override
        public <T> Mono<T> claimThen(String accountId, List<Claim> claims,
                                     Function<Map<String, Owner>, Mono<T>> work) {
            Map<String, Claim> view = new HashMap<>(owners);
            Set<String> claimedNow = new HashSet<>();
            for (Claim claim : claims) {
                if (view.putIfAbsent(accountId + "\n" + claim.key(), claim) == null) {
                    claimedNow.add(claim.key());
                }
            }
            Map<String, Owner> result = new HashMap<>();
            for (Claim claim : claims) {
                Claim owner = view.get(accountId + "\n" + claim.key());
                result.put(claim.key(), new Owner(owner.requestId(), owner.keyCallId(),
                        claimedNow.contains(claim.key())));
            }
            return work.apply(result).doOnSuccess(done -> owners.putAll(view));
        }
    }

    /** Claims whose work runs (and produces) and whose commit then fails. */
    static final class CommitFails implements ForeignIdClaims {

        private final InMemoryClaims claims = new InMemoryClaims();

        @Override
        public <T> Mono<T> claimThen(String accountId, List<Claim> given, Function<Map<String, Owner>, Mono<T>> work) {
            return claims.claimThen(accountId, given, work)
                    .then(Mono.error(new DataAccessResourceFailureException("commit failed: connection lost")));
        }
    }
}
