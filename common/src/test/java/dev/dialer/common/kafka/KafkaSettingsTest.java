package dev.dialer.common.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.util.Map;
import org.junit.jupiter.api.Test;

class KafkaSettingsTest {

    @Test
    void aServiceIsConfiguredWithTheClientPropertiesItIsGiven() {
        KafkaSettings settings = KafkaSettings.configured("broker-1:9093", Map.of(
                "security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-512", "linger.ms", "10"));

        assertThat(settings.bootstrapServers()).isEqualTo("broker-1:9093");
        assertThat(settings.overrides()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-512", "linger.ms", "10"));
        assertThat(KafkaSettings.configured("broker-1:9093", null).overrides()).isEmpty();
    }

    @Test
    void propertiesTheDialerSetsItselfAndValuesAClientWouldRefuseStopTheStart() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> KafkaSettings.configured("broker-1:9093", Map.of(
                        "security.protocol", "SSL", "acks", "1", "partitioner.class", "x.Custom")))
                .withMessage("dialer.kafka.properties may not set [acks, partitioner.class]: the dialer sets them "
                        + "itself, or its guarantees rest on their defaults");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> KafkaSettings.configured("broker-1:9093", Map.of("security.protocol", "SASL_SSLL")))
                .withMessageContaining("SASL_SSLL");
        assertThatIllegalArgumentException()
                .as("a consumer's own property, which neither the admin client nor a producer reads")
                .isThrownBy(() -> KafkaSettings.configured("broker-1:9093", Map.of("fetch.min.bytes", "a lot")))
                .withMessageContaining("fetch.min.bytes");
        for (String reserved : KafkaSettings.RESERVED) {
            assertThatIllegalArgumentException()
                    .isThrownBy(() -> KafkaSettings.configured("broker-1:9093", Map.of(reserved, "x")))
                    .withMessageContaining(reserved);
        }
    }

    @Test
    void producerSettingsAnIdempotentProducerRefusesStopTheStart() {
        assertThatIllegalArgumentException()
                .isThrownBy(() -> KafkaSettings.configured("broker-1:9093",
                        Map.of("max.in.flight.requests.per.connection", "10")))
                .withMessageContaining("max.in.flight.requests.per.connection").withMessageContaining("at most 5");
        assertThatIllegalArgumentException()
                .isThrownBy(() -> KafkaSettings.configured("broker-1:9093", Map.of("retries", "0")))
                .withMessageContaining("retries");
        assertThat(KafkaSettings.configured("broker-1:9093", Map.of("max.in.flight.requests.per.connection", "1",
                "retries", "10")).overrides()).hasSize(2);
    }
}
