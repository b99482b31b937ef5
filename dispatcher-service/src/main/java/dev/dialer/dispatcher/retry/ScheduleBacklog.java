package dev.dialer.dispatcher.retry;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What waits in {@code dispatch.schedule}, by the rows' reason ({@link RetrySchedule#REASONS}), read from the
 * database every {@code dialer.dispatcher.schedule.gauge-every}: {@code dialer.dispatcher.schedule.rows{reason}}, the
 * rows waiting, and {@code dialer.dispatcher.schedule.oldest.age{reason}}, seconds since the oldest of them was
 * written (0 when none). The lanes' gauges count only the records a dispatcher holds in memory; the backlog its lanes
 * parked, the retries of a campaign and the calls waiting for a calling window or a resume are all here, and nowhere
 * else. Both gauges are registered for every reason up front, so that a reason with nothing waiting shows as 0 rather
 * than as no series.
 *
 * <p>The table is every dispatcher's, so each reports the same numbers: read them with {@code max}, not {@code sum}.
 * The age is PostgreSQL's ({@code now()} less {@code created_at}), as the rows' times are; a row a later wait was
 * written into (a parked call deferred by its calling window) keeps the time it was first written.
 *
 * <p>One statement a period, which counts the whole table. A read that fails, or has not answered within the period,
 * keeps the last values and logs a warning: gauges dropping to zero while the database is away would show an empty
 * schedule where one may be full.
 */
@Component
class ScheduleBacklog {

    private static final Logger log = LoggerFactory.getLogger(ScheduleBacklog.class);
    private static final Waiting NONE = new Waiting(0, 0);

    private final DatabaseClient db;
    private final ScheduleProperties properties;
    /** The last read, by reason; a reason it did not find has nothing waiting. */
    private volatile Map<String, Waiting> waiting = Map.of();

    ScheduleBacklog(DatabaseClient db, ScheduleProperties properties, MeterRegistry registry) {
        this.db = db;
        this.properties = properties;
        for (String reason : RetrySchedule.REASONS) {
            Gauge.builder("dialer.dispatcher.schedule.rows", this, backlog -> backlog.of(reason).rows())
                    .description("Rows waiting in dispatch.schedule, by reason (every dispatcher reports the table)")
                    .tag("reason", reason)
                    .register(registry);
            Gauge.builder("dialer.dispatcher.schedule.oldest.age", this,
                            backlog -> backlog.of(reason).oldestAgeSeconds())
                    .description("Seconds since the oldest row waiting in dispatch.schedule was written (0 when none)")
                    .tag("reason", reason)
                    .baseUnit("seconds")
                    .register(registry);
        }
    }

    /** Reads the schedule at once and then every {@code gauge-every} until cancelled; a failed read never ends it. */
    Flux<Void> run() {
        return Flux.interval(Duration.ZERO, properties.gaugeEvery())
                .onBackpressureDrop()
                .concatMap(tick -> measure(), 1);
    }

    /** One read: the gauges take its numbers, or keep theirs when it fails. */
    Mono<Void> measure() {
        return read()
                // A read on a hung connection would hold back every later one.
                .timeout(properties.gaugeEvery())
                .doOnNext(read -> waiting = read)
                .onErrorResume(error -> {
                    log.warn("dispatch.schedule not measured; its gauges keep their last values, read again in {}: {}",
                            properties.gaugeEvery(), error.toString());
                    return Mono.empty();
                })
                .then();
    }

    private Mono<Map<String, Waiting>> read() {
        return db.sql("""
                        SELECT reason, count(*),
                               greatest(0, extract(epoch FROM now() - min(created_at)))::float8
                          FROM dispatch.schedule
                         GROUP BY reason""")
                .map(row -> Map.entry(row.get(0, String.class),
                        new Waiting(row.get(1, Long.class), row.get(2, Double.class))))
                .all()
                .collectMap(Map.Entry::getKey, Map.Entry::getValue);
    }

    private Waiting of(String reason) {
        return waiting.getOrDefault(reason, NONE);
    }

    /** The rows of one reason, and how long ago (in seconds) the oldest of them was written. */
    private record Waiting(long rows, double oldestAgeSeconds) {
    }
}
