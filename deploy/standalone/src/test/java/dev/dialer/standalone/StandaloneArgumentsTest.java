package dev.dialer.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A user's Spring argument replaces the launcher's for the same key rather than being joined to it. */
class StandaloneArgumentsTest {

    private static final List<String> LAUNCHER = List.of("--spring.config.name=dispatcher-service",
            "--server.port=8081", "--dialer.dispatcher.carrier.base-url=http://127.0.0.1:8090",
            "--dialer.kafka.partitions=6");

    @Test
    void theUsersValueReplacesTheLaunchersForTheSameKey() {
        List<String> args = StandaloneStack.merged(LAUNCHER,
                List.of("--dialer.dispatcher.carrier.base-url=https://vg.example.com", "--logging.level.root=WARN"));

        assertThat(args).containsExactly("--spring.config.name=dispatcher-service", "--server.port=8081",
                "--dialer.kafka.partitions=6", "--dialer.dispatcher.carrier.base-url=https://vg.example.com",
                "--logging.level.root=WARN");
    }

    @Test
    void eachServiceKeepsItsOwnPortAndName() {
        List<String> args = StandaloneStack.merged(LAUNCHER,
                List.of("--server.port=9999", "--spring.config.name=other"));

        assertThat(args).containsExactlyElementsOf(LAUNCHER);
    }
}
