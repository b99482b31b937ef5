package dev.dialer.api.control;

import dev.dialer.api.account.Account;
import dev.dialer.api.calls.CallLedger;
import dev.dialer.api.kafka.AcknowledgedPublisher;
import dev.dialer.api.kafka.PublishingTransactions;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.OutboundRecord;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
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
 */
@Service
class CallControls {

    private static final Logger log = LoggerFactory.getLogger(CallControls.class);

    private final CallLedger ledger;
    private final AcknowledgedPublisher publisher;
    private final DatabaseClient db;
    private final MeterRegistry registry;
    private final PublishingTransactions transactions;
    private final CampaignStates states;

    CallControls(CallLedger ledger, AcknowledgedPublisher publisher, DatabaseClient db, MeterRegistry registry,
                 ReactiveTransactionManager tx, CampaignStates states) {
        this.transactions = PublishingTransactions.create(tx);
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
                        : publish(new CallControl(CallControl.VERSION, newId(), CallControl.Action.CANCEL,
                                CallControl.Scope.REQUEST, account.id(), requestId, null, now())));
    }

    /**
     * 404 for a campaign this account never sent a call in; 409 for a pause or resume of a cancelled one. The state is
     * stored before the record is published and both commit together, so a control whose publishing failed leaves no
     * state behind.
     */
    Mono<CallControl> controlCampaign(Account account, String campaign, CallControl.Action action) {
        return ledger.hasCampaign(account.id(), campaign)
                .flatMap(exists -> exists ? Mono.just(campaign)
                        : Mono.error(Problems.notFound("No campaign " + campaign + " in this account.")))
                .flatMap(known -> {
                    CallControl control = new CallControl(CallControl.VERSION, newId(), action,
                            CallControl.Scope.CAMPAIGN, account.id(), null, campaign, now());
                    return lock(control)
                            .then(refuseAfterCancel(account, campaign, action))
                            .then(rememberState(control))
                            .then(publish(control))
                            .as(transactions::transactional);
                });
    }

    /** Serialises the controls of one campaign until the transaction ends, across api-service instances. */
    private Mono<Void> lock(CallControl control) {
        return db.sql("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
                .bind("key", control.key())
                .then();
    }

    /** A cancel is final: the same compacted key must never carry a later pause or resume. */
    private Mono<Void> refuseAfterCancel(Account account, String campaign, CallControl.Action action) {
        if (action == CallControl.Action.CANCEL) {
            return Mono.empty();
        }
        return states.of(account.id(), campaign)
                .flatMap(state -> "canceled".equals(state) ? Mono.error(Problems.campaignCanceled(campaign))
                        : Mono.empty());
    }

    private Mono<CallControl> publish(CallControl control) {
        return publisher.publishAll(List.of(OutboundRecord.of(Topics.CALL_CONTROL, control.key(),
                        Contract.toBytes(control))))
                .then(Mono.fromSupplier(() -> {
                    published(control).increment();
                    log.info("{} {} published for account {} ({})", control.scope().wire(), control.action().wire(),
                            control.accountId(), control.key());
                    return control;
                }));
    }

    /** The campaign's state as its progress shows it; the topic stays the source of truth for the dispatchers. */
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
                        WHERE api.campaign_states.state <> 'canceled'""")
                .bind("account", control.accountId())
                .bind("campaign", control.campaign())
                .bind("state", state)
                .bind("control", control.controlId())
                .bind("at", OffsetDateTime.ofInstant(control.issuedAt(), ZoneOffset.UTC))
                .then();
    }

    private Counter published(CallControl control) {
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
