package dev.dialer.dispatcher.event;

import java.util.function.UnaryOperator;
import org.springframework.r2dbc.core.DatabaseClient;

/**
 * State changes of several requests, one each, that {@link CallEvents#changeOnEach} stores together with their events
 * in one statement: a data-modifying statement that binds the requests' ids as a {@code text[]} to {@code $1} and
 * returns, for each change that happened, a row with the request's id and a text column {@code status} (the
 * attempt's status before, or null when it had none).
 *
 * @param sql        the statement; it may not have a {@code WITH} clause of its own
 * @param parameters how many parameters it binds ({@code $1} … {@code $parameters})
 * @param bind       binds them
 */
public record StateChanges(String sql, int parameters, UnaryOperator<DatabaseClient.GenericExecuteSpec> bind) {
}
