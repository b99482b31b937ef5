package dev.dialer.api.dnc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Collections;
import org.junit.jupiter.api.Test;

class DncControllerTest {

    @Test
    void readsALargeImportOffTheThreadThatReceivedItAndASmallOneOnIt() {
        String large = "[" + String.join(",", Collections.nCopies(DncImport.MAX_ROWS, "\"9876543215\"")) + "]";
        String receiving = Thread.currentThread().getName();

        assertThat(DncController.parsed(large, "IN").map(parsed -> Thread.currentThread().getName()).block())
                .startsWith("parallel-");
        assertThat(DncController.parsed("[\"9876543215\"]", "IN").map(parsed -> Thread.currentThread().getName())
                .block()).isEqualTo(receiving);
    }
}
