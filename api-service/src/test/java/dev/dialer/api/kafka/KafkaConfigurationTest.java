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

    private static KafkaProperties bind(Map<String, String> configured) {
        return new Binder(new MapConfigurationPropertySource(configured))
                .bindOrCreate("dialer.kafka", KafkaProperties.class);
    }
}
