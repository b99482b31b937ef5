package dev.dialer.dispatcher.pacing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CommandReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SlotHoldTest {

    private final SlotHold hold = new SlotHold(Duration.ofMinutes(65), Duration.ofMinutes(4), Duration.ofSeconds(60),
            Duration.ofHours(1));

    @Test
    void aCallWithTheDefaultsIsHeldItsRingTimeoutTimeLimitAndMargin() {
        assertThat(hold.nanos(command("{}"))).isEqualTo(Duration.ofMinutes(65).toNanos());
    }

    @Test
    void aCallsOwnRingTimeoutAndTimeLimitCountInsteadOfTheDefaults() {
        assertThat(hold.nanos(command("{\"timeout\":120,\"timeLimit\":10800}")))
                .isEqualTo(Duration.ofSeconds(120 + 10_800).plusMinutes(4).toNanos());
        assertThat(hold.nanos(command("{\"timeLimit\":7200}")))
                .isEqualTo(Duration.ofSeconds(60 + 7_200).plusMinutes(4).toNanos());
    }

    @Test
    void neverLessThanTheSlotTimeLimitNorMoreThanTheLongestCallTheApiAccepts() {
        assertThat(hold.nanos(command("{\"timeout\":5,\"timeLimit\":30}"))).isEqualTo(Duration.ofMinutes(65).toNanos());
        assertThat(hold.nanos(command("{\"timeout\":\"long\",\"timeLimit\":0}")))
                .as("what the carriers do not read as seconds").isEqualTo(Duration.ofMinutes(65).toNanos());
        assertThat(hold.nanos(command("{\"timeout\":9999999999,\"timeLimit\":9999999999}")))
                .isEqualTo(Duration.ofDays(2).plusMinutes(4).toNanos());
    }

    private static CallCommand command(String carrierOptions) {
        String json = """
                {"version":1,"request_id":"r-1","account_id":"acc","caller_id":"+4930000001","to":"+4915112345678",
                 "audio":"welcome.wav","carrier_options":%s,"created_at":"2025-06-01T12:00:00Z"}"""
                .formatted(carrierOptions);
        return new CommandReader().read(json.getBytes(StandardCharsets.UTF_8));
    }
}
