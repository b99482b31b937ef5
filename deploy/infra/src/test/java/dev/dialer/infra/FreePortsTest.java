package dev.dialer.infra;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Ports handed out for a server's listeners, one after another, are never the same twice. */
class FreePortsTest {

    @Test
    void aPortIsHandedOutOncePerProcess() {
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            assertThat(ports.add(FreePorts.find())).as("handed out again").isTrue();
            assertThat(ports.add(FreePorts.orFree(0))).as("handed out again").isTrue();
        }
        assertThat(ports).as("below the ports the system gives outgoing connections")
                .allSatisfy(port -> assertThat(port).isBetween(10_000, 32_767));
    }

    @Test
    void aGivenPortIsItself() {
        assertThat(FreePorts.orFree(15432)).isEqualTo(15432);
    }
}
