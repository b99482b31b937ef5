package dev.dialer.api.control;

import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The state the account's last control left each campaign in ({@code api.campaign_states}): {@code active},
 * {@code paused} or {@code canceled}. Written with the control's Kafka record, so it is the state the dispatchers
 * apply.
 */
@Component
public class CampaignStates {

    private final DatabaseClient db;

    CampaignStates(DatabaseClient db) {
        this.db = db;
    }

    /** The campaign's state; empty when no control has named it. */
    Mono<String> of(String accountId, String campaign) {
        return db.sql("SELECT state FROM api.campaign_states WHERE account_id = :account AND campaign = :campaign")
                .bind("account", accountId)
                .bind("campaign", campaign)
                .map((row, meta) -> row.get("state", String.class))
                .one();
    }

    /** Whether the campaign is paused: its calls wait for a resume. False for no campaign. */
    public Mono<Boolean> paused(String accountId, String campaign) {
        if (campaign == null) {
            return Mono.just(false);
        }
        return of(accountId, campaign).map("paused"::equals).defaultIfEmpty(false);
    }
}
