package dev.dialer.dispatcher.resilience;

import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTransientException;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.errors.RetriableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.RecoverableDataAccessException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.r2dbc.UncategorizedR2dbcException;
import org.springframework.transaction.CannotCreateTransactionException;
import reactor.core.Exceptions;
import reactor.util.retry.Retry;
import reactor.util.retry.RetryBackoffSpec;

/**
 * Retries for steps that touch PostgreSQL or Kafka. Only infrastructure outages are retried (a lost connection, a
 * broker that does not answer); any other error is a defect and surfaces at once.
 */
public final class InfraRetry {

    private static final Logger log = LoggerFactory.getLogger(InfraRetry.class);

    private InfraRetry() {
    }

    /**
     * Retries until the infrastructure is back, backing off to 5 s. For the command consumer: a command must not be
     * dropped because PostgreSQL or Kafka is briefly away, so its partition waits instead (visible as consumer lag).
     */
    public static RetryBackoffSpec untilRecovered(String step) {
        return Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(100))
                .maxBackoff(Duration.ofSeconds(5))
                .filter(InfraRetry::isTransient)
                .doBeforeRetry(signal -> log.warn("{} failed (retry {}), retrying: {}", step,
                        signal.totalRetries() + 1, signal.failure().toString()));
    }

    /** A few quick retries, for callers that wait for an answer (the carrier's callback has a short timeout). */
    public static RetryBackoffSpec brief(String step) {
        return Retry.backoff(3, Duration.ofMillis(50))
                .maxBackoff(Duration.ofMillis(500))
                .filter(InfraRetry::isTransient)
                .doBeforeRetry(signal -> log.warn("{} failed, retrying: {}", step, signal.failure().toString()));
    }

    /**
     * Whether the error says the infrastructure is (briefly) unavailable rather than that the request is wrong. An
     * inner step's {@link #brief} retries that ran out say what their last failure says: an outage that outlasted
     * them is still an outage, which an outer {@link #untilRecovered} must wait out rather than take for a defect.
     * A statement PostgreSQL gave up for a reason it calls transient (a deadlock, 40P01; a serialization failure,
     * 40001) reaches here as an error Spring could not categorize, around the driver's transient one: it is tried
     * again, never taken for a defect of the record (a command sent to the DLQ for a deadlock was never dialled).
     * A transaction that could not begin (its connection not had: PostgreSQL away, the pool exhausted) is an outage
     * whatever the driver said: no record's content makes a connection fail.
     */
    public static boolean isTransient(Throwable error) {
        if (Exceptions.isRetryExhausted(error) && error.getCause() != null) {
            return isTransient(error.getCause());
        }
        if (error instanceof UncategorizedR2dbcException && error.getCause() != null) {
            return isTransient(error.getCause());
        }
        return error instanceof CannotCreateTransactionException
                || error instanceof TransientDataAccessException
                || error instanceof DataAccessResourceFailureException
                || error instanceof RecoverableDataAccessException
                || error instanceof R2dbcTransientException
                || error instanceof R2dbcNonTransientResourceException
                || error instanceof RetriableException
                || error instanceof TimeoutException
                || error instanceof IOException;
    }
}
