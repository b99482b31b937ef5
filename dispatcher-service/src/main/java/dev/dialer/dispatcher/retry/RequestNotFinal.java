package dev.dialer.dispatcher.retry;

import dev.dialer.common.contract.CallCommand;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/** The {@link WaitEndCheck} the dispatcher has today: the request must not have its final status yet. */
@Component
class RequestNotFinal implements WaitEndCheck {

    private final DatabaseClient db;

    RequestNotFinal(DatabaseClient db) {
        this.db = db;
    }

    @Override
    public Mono<Boolean> stillWanted(CallCommand command, int attempt) {
        return db.sql("SELECT final_status IS NULL FROM dispatch.requests WHERE request_id = $1")
                .bind(0, command.requestId())
                .map(row -> Boolean.TRUE.equals(row.get(0, Boolean.class)))
                .one()
                .defaultIfEmpty(false);
    }

    /** One statement for all of them. */
    @Override
    public Mono<Set<String>> stillWantedOf(List<CallCommand> released) {
        if (released.isEmpty()) {
            return Mono.just(Set.of());
        }
        return db.sql("SELECT request_id FROM dispatch.requests WHERE request_id = ANY($1) AND final_status IS NULL")
                .bind(0, released.stream().map(CallCommand::requestId).distinct().toArray(String[]::new))
                .map(row -> row.get(0, String.class))
                .all()
                .collect(Collectors.toSet());
    }
}
