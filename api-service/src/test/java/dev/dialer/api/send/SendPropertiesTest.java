package dev.dialer.api.send;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

class SendPropertiesTest {

    @Test
    void theDefaultBodySizeTheDocumentStatesIsTheOneBound() {
        assertThat(DataSize.parse(SendProperties.DEFAULT_MAX_BODY_SIZE).toBytes())
                .isEqualTo(SendProperties.DEFAULT_MAX_BODY_BYTES);
    }

    @Test
    void refusesALimitOfNoRecipients() {
        assertThatThrownBy(() -> new SendProperties(DataSize.ofKilobytes(256), 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("max-recipients");
    }
}
