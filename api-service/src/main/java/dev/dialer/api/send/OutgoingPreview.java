package dev.dialer.api.send;

import dev.dialer.api.account.Account;
import dev.dialer.api.calls.CallLedger;
import dev.dialer.api.control.CampaignStates;
import dev.dialer.api.dnc.DncList;
import dev.dialer.api.settings.AccountSettingsStore;
import dev.dialer.api.webhook.WebhookDirectory;
import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.policy.DialPolicy;
import dev.dialer.common.policy.PolicyDecision;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.Charset;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The compliance preview: for each recipient of a send body, what the dispatcher would do with it now. It asks
 * {@link DialPolicy}, the code the dispatcher runs at dial time, with the same facts: the account's settings, its DNC
 * list, the attempts to the number in the last 24 hours (per-callee cap), whether the campaign is paused,
 * {@code valid_until} and the current time; a recipient the send would answer {@code duplicate} (listed before, or
 * its {@code foreign_id} used for the number by an earlier send) is answered so. The facts of the whole list are read
 * with one query per kind, whatever its length. A {@code webhook_id} that names no webhook of the account is the 400
 * naming it that the send answers. It produces nothing and stores nothing.
 */
@Service
class OutgoingPreview {

    private final AccountSettingsStore settings;
    private final DncList dnc;
    private final CallLedger ledger;
    private final CampaignStates campaigns;
    private final ForeignIds foreignIds;
    private final WebhookDirectory webhooks;
    private final MeterRegistry registry;
    private final PreviewProperties properties;
    private final int maxRecipients;

    OutgoingPreview(AccountSettingsStore settings, DncList dnc, CallLedger ledger, CampaignStates campaigns,
                    ForeignIds foreignIds, WebhookDirectory webhooks, MeterRegistry registry,
                    PreviewProperties properties, SendProperties sendProperties) {
        this.campaigns = campaigns;
        this.foreignIds = foreignIds;
        this.webhooks = webhooks;
        this.properties = properties;
        this.maxRecipients = sendProperties.maxRecipients();
        this.settings = settings;
        this.dnc = dnc;
        this.ledger = ledger;
        this.registry = registry;
    }

    /** @param charset the charset the body's Content-Type names: a form's percent-encoded values are text in it */
    Mono<Map<String, Object>> preview(Account account, String body, Charset charset) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        return settings.of(account.id())
                .map(properties::applyTo)
                .flatMap(accountSettings -> Mono.fromCallable(() -> SendRequestParser.parse(body, charset,
                                AccountSettingsStore.regionOf(account, accountSettings), maxRecipients))
                        .subscribeOn(Schedulers.parallel())
                        .flatMap(request -> OutgoingCalls.checkWebhook(webhooks, account, request))
                        .flatMap(request -> facts(account, accountSettings, request, now)
                                .map(facts -> rows(accountSettings, request, facts, now))))
                .map(rows -> answer(rows, now));
    }

    /**
     * The numbers on the DNC list, when the cap frees each capped number, whether the campaign is paused, and the
     * {@code foreign_id}s an earlier send claimed for their number: four queries for the whole list.
     */
    private Mono<ListFacts> facts(Account account, AccountSettings accountSettings, SendRequest request,
                                  Instant now) {
        List<String> numbers = request.recipients().stream().filter(SendRequest.Recipient::valid)
                .map(SendRequest.Recipient::e164).distinct().toList();
        if (numbers.isEmpty()) {
            return Mono.just(new ListFacts(Set.of(), Map.of(), false, Map.of()));
        }
        List<String[]> pairs = request.recipients().stream()
                .filter(recipient -> recipient.valid() && request.foreignIdOf(recipient) != null)
                .map(recipient -> new String[] {request.foreignIdOf(recipient), recipient.e164()})
                .toList();
        return Mono.zip(dnc.containing(account.id(), numbers), recentDials(account, accountSettings, numbers, now),
                        campaigns.paused(account.id(), request.campaign()),
                        foreignIds.claimedBefore(account.id(), pairs))
                .map(found -> new ListFacts(found.getT1(), found.getT2(), found.getT3(), found.getT4()));
    }

    private Mono<Map<String, List<Instant>>> recentDials(Account account, AccountSettings accountSettings,
                                                         List<String> numbers, Instant now) {
        Integer cap = accountSettings.perCalleeDailyCap();
        if (cap == null) {
            return Mono.just(Map.of());
        }
        return ledger.recentDials(account.id(), numbers, cap, now);
    }

    /**
     * Each recipient's answer, in the list's order. A number the list names again is {@code duplicate}, as the send
     * answers it: the send makes one call per callee, for its first listing. So is a number whose {@code foreign_id}
     * an earlier send of the account used for it (reason {@code foreign_id}): the send answers it with that send's
     * call and queues nothing.
     */
    private List<Map<String, Object>> rows(AccountSettings accountSettings, SendRequest request, ListFacts facts,
                                           Instant now) {
        Set<String> listed = new HashSet<>();
        List<Map<String, Object>> rows = new ArrayList<>(request.recipients().size());
        for (SendRequest.Recipient recipient : request.recipients()) {
            if (recipient.valid() && !listed.add(recipient.e164())) {
                rows.add(duplicate(request, recipient, null));
            } else if (recipient.valid() && claimedBefore(request, recipient, facts)) {
                rows.add(duplicate(request, recipient, "foreign_id"));
            } else {
                rows.add(row(accountSettings, request, recipient, facts, now));
            }
        }
        return rows;
    }

    private static boolean claimedBefore(SendRequest request, SendRequest.Recipient recipient, ListFacts facts) {
        String foreignId = request.foreignIdOf(recipient);
        return foreignId != null
                && facts.claimedForeignIds().containsKey(ForeignIdClaims.Claim.key(foreignId, recipient.e164()));
    }

    private Map<String, Object> row(AccountSettings accountSettings, SendRequest request,
                                    SendRequest.Recipient recipient, ListFacts facts, Instant now) {
        if (!recipient.valid()) {
            Map<String, Object> row = base(request, recipient, recipient.raw());
            row.put("decision", "rejected");
            row.put("error", Map.of("field", recipient.field(), "message", recipient.error()));
            counted("rejected");
            return row;
        }
        List<Instant> recent = facts.recentDials().getOrDefault(recipient.e164(), List.of());
        // The send refuses a caller ID or a flow the account may not use (403) before a campaign's pause could make
        // its calls wait: the preview says so, where the dispatcher's policy (which meets such a caller ID or flow only
        // from a command written to Kafka) would first let the paused call wait.
        List<String> flows = request.flowId() == null ? List.of() : List.of(request.flowId());
        boolean paused = facts.campaignPaused() && accountSettings.allowsCallerId(request.callerId())
                && accountSettings.allowsFlows(flows);
        PolicyDecision decision = DialPolicy.decide(new DialPolicy.Facts(request.callerId(), recipient.e164(),
                request.campaign(), request.validUntil(), accountSettings, facts.dnc().contains(recipient.e164()),
                capFreesAt(recent, accountSettings.perCalleeDailyCap()), now, paused, flows));
        return decided(request, recipient, decision);
    }

    private Map<String, Object> duplicate(SendRequest request, SendRequest.Recipient recipient, String reason) {
        counted("duplicate");
        Map<String, Object> row = base(request, recipient, recipient.e164().substring(1));
        row.put("decision", "duplicate");
        row.put("reason", reason);
        row.put("not_before", null);
        return row;
    }

    /**
     * When the cap lets the next call to a callee through, given its dials within the cap's 24 hours: the
     * {@code cap}-th newest leaving them; null when it has fewer than {@code cap}.
     */
    static Instant capFreesAt(List<Instant> dials, Integer cap) {
        if (cap == null || dials.size() < cap) {
            return null;
        }
        List<Instant> newestFirst = dials.stream().sorted(Comparator.reverseOrder()).toList();
        return newestFirst.get(cap - 1).plus(CallLedger.CAP_WINDOW);
    }

    /**
     * What the lookups found for a list: numbers on the DNC list, the newest dials of each capped number within the
     * cap's 24 hours (as many as the cap), whether the campaign is paused, and the (foreign id, number) pairs an
     * earlier send claimed, keyed as {@code ForeignIdClaims.Claim.key}.
     */
    private record ListFacts(Set<String> dnc, Map<String, List<Instant>> recentDials, boolean campaignPaused,
                             Map<String, String> claimedForeignIds) {
    }

    private Map<String, Object> decided(SendRequest request, SendRequest.Recipient recipient,
                                        PolicyDecision decision) {
        String verdict = decision.verdict().name().toLowerCase(Locale.ROOT);
        counted(verdict);
        Map<String, Object> row = base(request, recipient, recipient.e164().substring(1));
        row.put("decision", verdict);
        row.put("reason", decision.reason());
        row.put("not_before", decision.notBefore());
        return row;
    }

    private void counted(String decision) {
        Counter.builder("dialer.api.preview.decisions")
                .description("Compliance preview answers by decision")
                .tag("decision", decision)
                .register(registry).increment();
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
