package dev.dialer.dispatcher.event;

import java.util.function.UnaryOperator;
import org.springframework.r2dbc.core.DatabaseClient;

/**
 * A state change that {@link CallEvents#emitOn} stores together with its event, in one statement: a data-modifying
 * statement about the request bound to {@code $1} that returns one row, with a text column {@code status} (the
 * attempt's status before, or null when it had none), if and only if it happened.
 *
 * @param sql        the statement; it may not have a {@code WITH} clause of its own
 * @param parameters how many parameters it binds ({@code $1} … {@code $parameters})
 * @param bind       binds them
 */
public record StateChange(String sql, int parameters,
                          UnaryOperator<DatabaseClient.GenericExecuteSpec> bind) {
}
