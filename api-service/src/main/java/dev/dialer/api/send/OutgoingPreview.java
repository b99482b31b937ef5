package dev.dialer.api.send;

import dev.dialer.api.account.Account;
import dev.dialer.api.calls.CallLedger;
import dev.dialer.api.dnc.DncList;
import dev.dialer.api.settings.AccountSettingsStore;
import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.policy.DialPolicy;
import dev.dialer.common.policy.PolicyDecision;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The compliance preview: for each recipient of a send body, what the dispatcher would do with it now. It asks
 * {@link DialPolicy}, the code the dispatcher runs at dial time, with the same facts: the account's settings, its DNC
 * list, the attempts to the number in the last 24 hours (per-callee cap), {@code valid_until} and the current time.
 * It produces nothing and stores nothing.
 */
@Service
class OutgoingPreview {

    /** Recipients looked up at once: the lookups share the connection pool with the send path. */
    private static final int LOOKUP_CONCURRENCY = 4;

    private final AccountSettingsStore settings;
    private final DncList dnc;
    private final CallLedger ledger;
    private final MeterRegistry registry;
    private final PreviewProperties properties;

    OutgoingPreview(AccountSettingsStore settings, DncList dnc, CallLedger ledger, MeterRegistry registry,
                    PreviewProperties properties) {
        this.properties = properties;
        this.settings = settings;
        this.dnc = dnc;
        this.ledger = ledger;
        this.registry = registry;
    }

    Mono<Map<String, Object>> preview(Account account, String body) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return settings.of(account.id())
                .map(properties::applyTo)
                .flatMap(accountSettings -> Mono.fromCallable(() -> SendRequestParser.parse(body,
                                AccountSettingsStore.regionOf(account, accountSettings)))
                        .subscribeOn(Schedulers.parallel())
                        .flatMap(request -> Flux.fromIterable(request.recipients())
                                .flatMapSequential(recipient -> row(account, accountSettings, request, recipient, now),
                                        LOOKUP_CONCURRENCY)
                                .collectList()))
                .map(rows -> answer(rows, now));
    }

    private Mono<Map<String, Object>> row(Account account, AccountSettings accountSettings, SendRequest request,
                                          SendRequest.Recipient recipient, Instant now) {
        if (!recipient.valid()) {
            Map<String, Object> row = base(request, recipient, recipient.raw());
            row.put("decision", "rejected");
            row.put("error", Map.of("field", recipient.field(), "message", recipient.error()));
            return Mono.just(row);
        }
        return dnc.contains(account.id(), recipient.e164())
                .zipWith(capFreesAt(account, accountSettings, recipient.e164(), now))
                .map(facts -> DialPolicy.decide(new DialPolicy.Facts(request.callerId(), recipient.e164(),
                        request.campaign(), request.validUntil(), accountSettings, facts.getT1(),
                        facts.getT2().orElse(null), now)))
                .map(decision -> decided(request, recipient, decision));
    }

    private Mono<Optional<Instant>> capFreesAt(Account account, AccountSettings accountSettings, String e164,
                                               Instant now) {
        Integer cap = accountSettings.perCalleeDailyCap();
        if (cap == null) {
            return Mono.just(Optional.empty());
        }
        return ledger.capFreesAt(account.id(), e164, cap, now).map(Optional::of).defaultIfEmpty(Optional.empty());
    }

    private Map<String, Object> decided(SendRequest request, SendRequest.Recipient recipient,
                                        PolicyDecision decision) {
        String verdict = decision.verdict().name().toLowerCase(Locale.ROOT);
        Counter.builder("dialer.api.preview.decisions")
                .description("Compliance preview answers by decision")
                .tag("decision", verdict)
                .register(registry).increment();
        Map<String, Object> row = base(request, recipient, recipient.e164().substring(1));
        row.put("decision", verdict);
        row.put("reason", decision.reason());
        row.put("not_before", decision.notBefore());
        return row;
    }

    private static Map<String, Object> base(SendRequest request, SendRequest.Recipient recipient, String mobile) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("mobile", mobile);
        row.put("caller_id", request.callerId().substring(1));
        row.put("foreign_id", request.foreignIdOf(recipient));
        return row;
    }

    private static Map<String, Object> answer(List<Map<String, Object>> rows, Instant now) {
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("evaluated_at", now);
        answer.put("data", rows);
        return answer;
    }
}
