package dev.dialer.api.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import dev.dialer.common.kafka.KafkaSettings;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** {@code dialer.kafka.properties.*} as configured, keys with their dots, become every Kafka client's properties. */
class KafkaConfigurationTest {

    @Test
    void theConfiguredClientPropertiesReachTheServicesKafkaSettings() {
        KafkaSettings settings = new KafkaConfiguration().kafkaSettings(bind(Map.of(
                "dialer.kafka.bootstrap-servers", "broker-1:9093,broker-2:9093",
                "dialer.kafka.properties.security.protocol", "SASL_SSL",
                "dialer.kafka.properties.sasl.mechanism", "SCRAM-SHA-512",
                "dialer.kafka.properties.ssl.truststore.location", "/etc/dialer/truststore.p12")));

        assertThat(settings.bootstrapServers()).isEqualTo("broker-1:9093,broker-2:9093");
        assertThat(settings.overrides()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "security.protocol", "SASL_SSL",
                "sasl.mechanism", "SCRAM-SHA-512",
                "ssl.truststore.location", "/etc/dialer/truststore.p12"));
        assertThat(new KafkaConfiguration().kafkaSettings(bind(Map.of())).overrides()).isEmpty();
    }

    @Test
    void aPropertyTheDialerSetsItselfStopsTheStart() {
        KafkaProperties properties = bind(Map.of("dialer.kafka.properties.acks", "1"));

        assertThatIllegalArgumentException().isThrownBy(() -> new KafkaConfiguration().kafkaSettings(properties))
                .withMessageContaining("[acks]");
    }

    @Test
    void theProducersBufferHoldsTheRecordsTheApiMayWaitFor() {
        String wanted = Long.toString((128L << 20) + KafkaConfiguration.PRODUCER_BUFFER_HEADROOM);
        KafkaSettings defaults = KafkaSettings.configured("broker-1:9093", Map.of("linger.ms", "5"));
        assertThat(KafkaConfiguration.withBufferFor(defaults, 128L << 20).overrides())
                .containsEntry("buffer.memory", wanted).containsEntry("linger.ms", "5");

        KafkaSettings larger = KafkaSettings.configured("broker-1:9093", Map.of("buffer.memory", "1073741824"));
        assertThat(KafkaConfiguration.withBufferFor(larger, 128L << 20)).isSameAs(larger);
        KafkaSettings smaller = KafkaSettings.configured("broker-1:9093", Map.of("buffer.memory", "1048576"));
        assertThat(KafkaConfiguration.withBufferFor(smaller, 128L << 20).overrides().get("buffer.memory"))
                .isEqualTo(wanted);
    }

    private static KafkaProperties bind(Map<String, String> configured) {
        return new Binder(new MapConfigurationPropertySource(configured))
                .bindOrCreate("dialer.kafka", KafkaProperties.class);
    }
}
