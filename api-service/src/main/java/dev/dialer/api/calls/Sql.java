package dev.dialer.api.calls;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.springframework.r2dbc.core.DatabaseClient.GenericExecuteSpec;

/** Binding helpers for values that may be null (R2DBC needs the type of a null). */
final class Sql {

    private Sql() {
    }

    static GenericExecuteSpec bind(GenericExecuteSpec spec, String name, Object value, Class<?> type) {
        if (value instanceof Instant instant) {
            return spec.bind(name, OffsetDateTime.ofInstant(instant, ZoneOffset.UTC));
        }
        if (value == null) {
            return spec.bindNull(name, type == Instant.class ? OffsetDateTime.class : type);
        }
        return spec.bind(name, value);
    }

    static Instant instant(OffsetDateTime time) {
        return time == null ? null : time.toInstant();
    }
}
