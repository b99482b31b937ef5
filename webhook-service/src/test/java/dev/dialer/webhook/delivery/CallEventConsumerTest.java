package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.R2dbcDataIntegrityViolationException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcPermissionDeniedException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.r2dbc.BadSqlGrammarException;

/** Which database errors make a call event wait for PostgreSQL, and which are tried a few times and skipped. */
class CallEventConsumerTest {

    @Test
    void postgresqlAwayIsWaitedFor() {
        assertThat(new Throwable[] {new DataAccessResourceFailureException("connection refused"),
                new QueryTimeoutException("statement timeout"), new TimeoutException("pool"),
                new R2dbcNonTransientResourceException("connection closed")})
                .allMatch(CallEventConsumer::isStoreFailure)
                .noneMatch(CallEventConsumer::isRefusedStatement);
    }

    @Test
    void aStatementRefusedForItsDataIsNotWaitedForForever() {
        assertThat(new Throwable[] {new DuplicateKeyException("duplicate key"),
                new BadSqlGrammarException("insert", "INSERT …", new io.r2dbc.spi.R2dbcBadGrammarException("bad")),
                new R2dbcDataIntegrityViolationException("not null")})
                .allMatch(CallEventConsumer::isRefusedStatement)
                .noneMatch(CallEventConsumer::isStoreFailure);
    }

    @Test
    void aStatementOverAPostgresqlLimitIsRefusedForGoodThoughTheDriverReportsItAsAResourceFailure() {
        // As r2dbc-postgresql reports SQLSTATE 54000, and as Spring's DatabaseClient then wraps it.
        R2dbcNonTransientResourceException tooLarge = new R2dbcNonTransientResourceException(
                "index row size 2720 exceeds btree version 4 maximum 2704 for index \"retries_order\"", "54000");

        assertThat(new Throwable[] {tooLarge, new DataAccessResourceFailureException("insert", tooLarge)})
                .allMatch(CallEventConsumer::isRefusedStatement)
                .noneMatch(CallEventConsumer::isStoreFailure);
    }

    @Test
    void aServerThatIsShortOfResourcesShuttingDownReadOnlyOrMissingAGrantIsWaitedFor() {
        assertThat(new Throwable[] {
                new DataAccessResourceFailureException("insert",
                        new R2dbcNonTransientResourceException("too many connections", "53300")),
                new R2dbcNonTransientResourceException("terminating connection due to administrator command", "57P01"),
                new R2dbcNonTransientResourceException("cannot execute INSERT in a read-only transaction", "25006"),
                new R2dbcPermissionDeniedException("permission denied for table retries", "42501")})
                .allMatch(CallEventConsumer::isStoreFailure)
                .noneMatch(CallEventConsumer::isRefusedStatement);
    }

    @Test
    void anythingElseIsNeitherAndIsSkippedAsUnexpected() {
        assertThat(new IllegalStateException("bug")).matches(error -> !CallEventConsumer.isStoreFailure(error)
                && !CallEventConsumer.isRefusedStatement(error));
    }
}
