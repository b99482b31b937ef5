package dev.dialer.dispatcher.pacing;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import java.time.Instant;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Stores a command whose lane is too far behind as a {@code dispatch.schedule} row (reason {@code parked}), so the
 * retry scheduler publishes it again to {@code dialer.call.commands} when its turn comes. Only after the row is
 * committed may the record be acknowledged.
 */
@Component
class ParkingLot {

    private final DatabaseClient db;

    ParkingLot(DatabaseClient db) {
        this.db = db;
    }

    /**
     * Parks the command's attempt until {@code dueAt}. Parking the same attempt again while a row waits changes
     * nothing; the request row is written first (the first command seen for a request wins, as in the ledger).
     */
    Mono<Void> park(CallCommand command, Instant dueAt) {
        return insertRequest(command).then(db.sql("""
                        INSERT INTO dispatch.schedule (request_id, attempt_no, due_at, reason, command)
                        SELECT request_id, $2, $3, 'parked', command FROM dispatch.requests WHERE request_id = $1
                        ON CONFLICT (request_id, attempt_no) DO NOTHING""")
                .bind(0, command.requestId())
                .bind(1, command.attempt())
                .bind(2, dueAt)
                .then());
    }

    private Mono<Void> insertRequest(CallCommand command) {
        return db.sql("""
                        INSERT INTO dispatch.requests (request_id, account_id, caller_id, command)
                        VALUES ($1, $2, $3, $4::jsonb)
                        ON CONFLICT (request_id) DO NOTHING""")
                .bind(0, command.requestId())
                .bind(1, command.accountId())
                .bind(2, command.callerId())
                .bind(3, Contract.toJson(command))
                .then();
    }
}
