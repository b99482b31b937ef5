package dev.dialer.api.openapi;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OpenApiConfigurationTest {

    @Test
    void anOperationWithoutSummaryIsNamedAfterItsId() {
        assertThat(OpenApiConfiguration.humanize("listCalls")).isEqualTo("List calls");
        assertThat(OpenApiConfiguration.humanize("getCampaign_1")).isEqualTo("Get campaign");
        assertThat(OpenApiConfiguration.humanize("dnc-controller")).isEqualTo("Dnc controller");
        assertThat(OpenApiConfiguration.humanize(null)).isEqualTo("Operation");
    }
}
