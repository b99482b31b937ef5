package dev.dialer.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The dispatcher's Reactor Netty event loops: one per processor unless the operator chose. */
class IoWorkersTest {

    private String before;

    @BeforeEach
    void remember() {
        before = System.getProperty(DispatcherApplication.IO_WORKER_COUNT);
    }

    @AfterEach
    void restore() {
        if (before == null) {
            System.clearProperty(DispatcherApplication.IO_WORKER_COUNT);
        } else {
            System.setProperty(DispatcherApplication.IO_WORKER_COUNT, before);
        }
    }

    @Test
    void onePerProcessorAndAtLeastTwoWhenUnset() {
        System.clearProperty(DispatcherApplication.IO_WORKER_COUNT);

        DispatcherApplication.fitIoWorkersToProcessors();

        assertThat(System.getProperty(DispatcherApplication.IO_WORKER_COUNT))
                .isEqualTo(String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors())));
    }

    @Test
    void theOperatorsChoiceStands() {
        System.setProperty(DispatcherApplication.IO_WORKER_COUNT, "7");

        DispatcherApplication.fitIoWorkersToProcessors();

        assertThat(System.getProperty(DispatcherApplication.IO_WORKER_COUNT)).isEqualTo("7");
    }
}
