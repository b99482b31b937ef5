package dev.dialer.webhook.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.r2dbc.spi.R2dbcDataIntegrityViolationException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
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
    void anythingElseIsNeitherAndIsSkippedAsUnexpected() {
        assertThat(new IllegalStateException("bug")).matches(error -> !CallEventConsumer.isStoreFailure(error)
                && !CallEventConsumer.isRefusedStatement(error));
    }
}
