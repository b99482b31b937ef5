package dev.dialer.api.control;

import dev.dialer.api.account.Account;
import dev.dialer.api.calls.CallLedger;
import dev.dialer.api.kafka.AcknowledgedPublisher;
import dev.dialer.api.kafka.CommittedStates;
import dev.dialer.api.kafka.Compensations;
import dev.dialer.api.kafka.LockWaits;
import dev.dialer.api.kafka.OwedState;
import dev.dialer.api.kafka.OwedStates;
import dev.dialer.api.kafka.PublishingTransactions;
import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.ReactiveTransactionManager;
import reactor.core.publisher.Mono;

/**
 * Cancel one call, or cancel, pause or resume a campaign, as {@link CallControl} records on the compacted
 * {@code dialer.call.control} topic that every dispatcher reads in full. Answers only after Kafka acknowledged the
 * record (acks=all): from then on no dispatcher dials a queued, paused or waiting call it covers, and a ringing one
 * is cancelled at the carrier. The outcome follows as the call's events ({@code canceled}, or a final status that
 * came first).
 *
 * <p>A campaign's controls share one compacted key, and the dispatchers act on its latest record: a cancel is final
 * only if no pause or resume is published after it. So each campaign control is one transaction under a lock on the
 * campaign: check that it was not cancelled, store its new state, publish, commit. A resume racing a cancel either
 * comes first or is refused 409; it never lands on the topic after the cancel it did not see.
 *
 * <p>A control whose record Kafka may store although the API answered 503 (acknowledged too late, or the commit
 * failed) is made certain or undone (decision 0127). A campaign cancel is kept: its {@code canceled} state is
 * committed all the same, so nothing can be published after it, and a repeated cancel publishes it again. A pause or
 * resume is undone: the campaign's committed state is published again after it ({@link Compensations}). A request
 * cancel needs neither: nothing but a cancel is ever published under a request's key (the dispatchers' tombstone
 * follows only once the request ended), so a late one is simply a cancel that took effect, and repeating it is safe.
 *
 * <p>A campaign control owes the campaign's state to Kafka until it is acknowledged (decision 0129): a row naming the
 * campaign is written before it and deleted with its commit. A kept cancel leaves it, so the sweeper publishes the
 * committed state, the cancel, until Kafka has it, whether or not the client repeats the cancel.
 */
@Service
class CallControls implements CommittedStates {

    private static final Logger log = LoggerFactory.getLogger(CallControls.class);
    /** What a 503 of a request cancel says after why Kafka did not have it. */
    private static final String CANCEL_MAY_LAND = "The cancel may still reach the dialer, and nothing undoes it. "
            + "Repeat it (a cancel is safe to repeat) until it is answered 202.";
    /** What a 503 of a campaign cancel says after why Kafka did not have it. */
    static final String CANCEL_KEPT = "The campaign is canceled all the same and stays so (a pause or resume "
            + "is refused), but the dialer may not have the cancel yet: it is published again until Kafka has it. "
            + "Repeating it is safe.";
    private static final String CANCEL = "campaign_cancel";
    private static final Duration KEPT_RETRY_AFTER = Duration.ofSeconds(5);

    private final CallLedger ledger;
    private final AcknowledgedPublisher publisher;
    private final DatabaseClient db;
    private final MeterRegistry registry;
    private final PublishingTransactions transactions;
    private final Compensations compensations;
    private final OwedStates owed;
    private final CampaignStates states;

    CallControls(CallLedger ledger, AcknowledgedPublisher publisher, DatabaseClient db, MeterRegistry registry,
                 ReactiveTransactionManager tx, Compensations compensations, OwedStates owed, CampaignStates states) {
        this.transactions = PublishingTransactions.create(tx);
        this.compensations = compensations;
        this.owed = owed;
        this.states = states;
        this.ledger = ledger;
        this.publisher = publisher;
        this.db = db;
        this.registry = registry;
    }

    /** 404 for a call this account does not have, 409 for one already final. */
    Mono<CallControl> cancelCall(Account account, String requestId) {
        return ledger.state(account.id(), requestId)
                .switchIfEmpty(Mono.error(() -> Problems.notFound("No call " + requestId + " in this account.")))
                .flatMap(state -> state.isFinal()
                        ? Mono.error(Problems.callAlreadyFinal(requestId, state.finalStatus()))
                        : Mono.just(new CallControl(CallControl.VERSION, newId(), CallControl.Action.CANCEL,
                                CallControl.Scope.REQUEST, account.id(), requestId, null, now())))
                .flatMap(control -> publisher.publishAll(List.of(record(control)), CANCEL_MAY_LAND)
                        .then(published(control)));
    }

    /**
     * 404 for a campaign this account never sent a call in; 409 for a pause or resume of a cancelled one. The state is
     * stored before the record is published and both commit together, so a pause or resume whose publishing failed
     * leaves no state behind; a cancel's is kept.
     */
    Mono<CallControl> controlCampaign(Account account, String campaign, CallControl.Action action) {
        return ledger.hasCampaign(account.id(), campaign)
                .flatMap(exists -> exists ? Mono.just(campaign)
                        : Mono.error(Problems.notFound("No campaign " + campaign + " in this account.")))
                .flatMap(known -> {
                    CallControl control = new CallControl(CallControl.VERSION, newId(), action,
                            CallControl.Scope.CAMPAIGN, account.id(), null, campaign, now());
                    return action == CallControl.Action.CANCEL ? cancelCampaign(control) : pauseOrResume(control);
                });
    }

    /** Undone, should its record land after a 503: the campaign's committed state is published again after it. */
    private Mono<CallControl> pauseOrResume(CallControl control) {
        return compensations.transactional("campaign_" + control.action().wire(), owedState(control),
                committed(control.accountId(), control.campaign()), publication -> lock(control)
                        .then(refuseAfterCancel(control))
                        .then(rememberState(control))
                        .then(publication.publish(List.of(record(control))))
                        .then(published(control)));
    }

    /**
     * A cancel is never undone. Its {@code canceled} state and the campaign's row in {@link OwedStates} commit first,
     * together, under the campaign's lock: from then on a pause or resume is refused (so nothing is published after
     * the cancel on the campaign's key), and the campaign's committed state, which a sweeper publishes while the row
     * lasts, is the cancel. Then the cancel is published, under the lock again, and the row deleted with Kafka's
     * acknowledgement. When Kafka does not acknowledge (in time, or at all: either way it may be stored or land yet),
     * or anything after the first commit fails, the answer is the 503 and the row stays: the cancel is published again
     * until Kafka has it, repeated by the client or not.
     * <p>
     * What is published is the cancel the campaign's state names when the lock is taken again, not necessarily this
     * one: two cancels of one campaign at once each commit their state, then publish, and the lock is free between
     * the two steps. Published as they came, the older could land last, and the dispatchers, which keep the latest
     * record of the key, would dial the calls sent between the two, for which the newer was answered 202. The state
     * keeps the newer cancel ({@link #rememberState}), each publication is the state, so the last record is the
     * newer; each cancel is answered with the one published for it.
     */
    private Mono<CallControl> cancelCampaign(CallControl control) {
        return transactions.transactional(lock(control)
                        .then(rememberState(control))
                        .then(owed.owe(owedState(control))))
                .flatMap(row -> transactions.transactional(lock(control)
                                .then(stateAsControl(control.accountId(), control.campaign()))
                                .flatMap(current -> publisher.publishAll(List.of(record(current)), CANCEL_KEPT)
                                        .then(owed.settle(row))
                                        .thenReturn(current)))
                        .onErrorResume(error -> {
                            log.warn("campaign cancel {} ({}) was not acknowledged ({}); the campaign stays canceled "
                                    + "and the cancel is owed to Kafka (row {})", control.controlId(), control.key(),
                                    error.toString(), row);
                            compensations.count(CANCEL, "kept");
                            return Mono.error(keptCancel(error));
                        }))
                .flatMap(this::published);
    }

    /**
     * The answer to a campaign cancel whose canceled state committed but whose publication failed: Kafka's own refusal
     * (late or refused records) names the cancel kept already and is answered as it is; any other failure is answered
     * so too, not as a request that did not take effect. That includes the API's own refusals: the publisher turning
     * the record away because the bytes waiting for Kafka are spent says that nothing was queued, while the campaign
     * is canceled and its cancel owed to Kafka; so do the campaign's lock waiting for too long and the database away.
     */
    static Throwable keptCancel(Throwable error) {
        return error instanceof ApiProblem problem && saysKept(problem) ? error
                : Problems.unavailable("The cancel could not be published now. " + CANCEL_KEPT, KEPT_RETRY_AFTER,
                        error);
    }

    /** Whether the problem's detail tells the client the cancel is kept: those the publisher ends with CANCEL_KEPT. */
    private static boolean saysKept(ApiProblem problem) {
        String detail = problem.getBody().getDetail();
        return detail != null && detail.endsWith(CANCEL_KEPT);
    }

    @Override
    public OwedState.Kind kind() {
        return OwedState.Kind.CAMPAIGN;
    }

    /**
     * The campaign's committed state as a control, under the campaign's lock: the cancel that canceled it (its id and
     * time: the dispatchers do not act on it again and it reaches the same calls), the pause that paused it, or, for
     * an active campaign, a resume of its own id, which the dispatchers act on (releasing at once the calls a late
     * pause held).
     */
    @Override
    public Mono<List<OutboundRecord>> committed(OwedState campaign) {
        return committed(campaign.accountId(), campaign.objectId());
    }

    private Mono<List<OutboundRecord>> committed(String accountId, String campaign) {
        return lock(CallControl.campaignKey(accountId, campaign))
                .then(stateAsControl(accountId, campaign))
                .map(control -> List.of(record(control)));
    }

    /** The campaign's stored state as the control that made it; an active campaign's as a resume of its own id. */
    private Mono<CallControl> stateAsControl(String accountId, String campaign) {
        return states.stored(accountId, campaign)
                .filter(stored -> !"active".equals(stored.state()))
                .map(stored -> new CallControl(CallControl.VERSION, stored.controlId(),
                        "canceled".equals(stored.state()) ? CallControl.Action.CANCEL : CallControl.Action.PAUSE,
                        CallControl.Scope.CAMPAIGN, accountId, null, campaign, stored.updatedAt()))
                .switchIfEmpty(Mono.fromSupplier(() -> new CallControl(CallControl.VERSION, newId(),
                        CallControl.Action.RESUME, CallControl.Scope.CAMPAIGN, accountId, null, campaign, now())));
    }

    private static OwedState owedState(CallControl control) {
        return OwedState.campaign(control.accountId(), control.campaign());
    }

    /** Serialises the controls of one campaign until the transaction ends, across api-service instances. */
    private Mono<Void> lock(CallControl control) {
        return lock(control.key());
    }

    /** Waited for at most {@link LockWaits#WAIT}: the control holding it waits for Kafka's acknowledgement. */
    private Mono<Void> lock(String campaignKey) {
        return LockWaits.bounded(db)
                .then(db.sql("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
                        .bind("key", campaignKey)
                        .then());
    }

    /** A cancel is final: the same compacted key must never carry a later pause or resume. */
    private Mono<Void> refuseAfterCancel(CallControl control) {
        return states.of(control.accountId(), control.campaign())
                .flatMap(state -> "canceled".equals(state) ? Mono.error(Problems.campaignCanceled(control.campaign()))
                        : Mono.empty());
    }

    private static OutboundRecord record(CallControl control) {
        return OutboundRecord.of(Topics.CALL_CONTROL, control.key(), Contract.toBytes(control));
    }

    /** Counts and logs a control Kafka acknowledged, and answers it. */
    private Mono<CallControl> published(CallControl control) {
        return Mono.fromSupplier(() -> {
            counter(control).increment();
            log.info("{} {} published for account {} ({})", control.scope().wire(), control.action().wire(),
                    control.accountId(), control.key());
            return control;
        });
    }

    /**
     * The campaign's state as its progress shows it; the topic stays the source of truth for the dispatchers. A
     * cancel replaces the control a cancelled campaign's state names unless it was issued before it (a repeated cancel
     * is the latest record, and reaches the calls accepted up to it; one that waited for the lock behind a newer one
     * must not move the campaign's cut-off back); nothing else changes a cancelled campaign's state.
     */
    private Mono<Void> rememberState(CallControl control) {
        String state = switch (control.action()) {
            case PAUSE -> "paused";
            case RESUME -> "active";
            case CANCEL -> "canceled";
        };
        return db.sql("""
                        INSERT INTO api.campaign_states (account_id, campaign, state, control_id, updated_at)
                        VALUES (:account, :campaign, :state, :control, :at)
                        ON CONFLICT (account_id, campaign) DO UPDATE SET state = EXCLUDED.state,
                            control_id = EXCLUDED.control_id, updated_at = EXCLUDED.updated_at
                        WHERE api.campaign_states.state <> 'canceled'
                            OR (EXCLUDED.state = 'canceled'
                                AND EXCLUDED.updated_at >= api.campaign_states.updated_at)""")
                .bind("account", control.accountId())
                .bind("campaign", control.campaign())
                .bind("state", state)
                .bind("control", control.controlId())
                .bind("at", OffsetDateTime.ofInstant(control.issuedAt(), ZoneOffset.UTC))
                .then();
    }

    private Counter counter(CallControl control) {
        return Counter.builder("dialer.api.controls.published")
                .description("Call controls acknowledged by Kafka, by action and scope")
                .tag("action", control.action().wire())
                .tag("scope", control.scope().wire())
                .register(registry);
    }

    private static String newId() {
        return UUID.randomUUID().toString();
    }

    private static Instant now() {
        return Instant.now().truncatedTo(ChronoUnit.MICROS);
    }
}
