package dev.dialer.api.control;

import java.time.Instant;
import java.time.OffsetDateTime;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * The state the account's last control left each campaign in ({@code api.campaign_states}): {@code active},
 * {@code paused} or {@code canceled}, and that control's id and time. Written with the control's Kafka record, so it
 * is the state the dispatchers apply; a cancel's is kept even when Kafka did not acknowledge its record in time
 * (decision 0127), until a repeated cancel is.
 */
@Component
public class CampaignStates {

    /** A campaign's stored state and the control that left it so. */
    record Stored(String state, String controlId, Instant updatedAt) {
    }

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

    /** The campaign's state and the control that left it so; empty when no control has named it. */
    Mono<Stored> stored(String accountId, String campaign) {
        return db.sql("""
                        SELECT state, control_id, updated_at FROM api.campaign_states
                        WHERE account_id = :account AND campaign = :campaign""")
                .bind("account", accountId)
                .bind("campaign", campaign)
                .map((row, meta) -> new Stored(row.get("state", String.class), row.get("control_id", String.class),
                        row.get("updated_at", OffsetDateTime.class).toInstant()))
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
