package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.r2dbc.core.DatabaseClient;

class DatabaseSessionsIT extends RunningApiService {

    @Autowired
    DatabaseClient db;

    @Test
    void itsPostgresqlSessionsEndWhenItsHostDiesOrATransactionIsLeftOpen() {
        // Read through the service's own pool: the parameters are set on every connection it opens.
        java.util.Map<String, String> settings = db
                .sql("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)")
                .bind("names", dev.dialer.common.db.PostgresSessions.PARAMETERS.keySet().toArray(String[]::new))
                .map((row, meta) -> java.util.Map.entry(row.get("name", String.class), row.get("setting", String.class)))
                .all()
                .collectMap(java.util.Map.Entry::getKey, java.util.Map.Entry::getValue)
                .block(java.time.Duration.ofSeconds(10));
        assertThat(settings).isEqualTo(dev.dialer.common.db.PostgresSessions.PARAMETERS);
    }
}
