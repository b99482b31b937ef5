package dev.dialer.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class StandaloneOptionsTest {

    @Test
    void defaultsAreTheDocumentedPorts() {
        StandaloneOptions options = StandaloneOptions.parse();

        assertThat(options.apiPort()).isEqualTo(8080);
        assertThat(options.dispatcherPort()).isEqualTo(8081);
        assertThat(options.webhookPort()).isEqualTo(8082);
        assertThat(options.simulatorPort()).isEqualTo(8090);
        assertThat(options.kafkaPort()).isEqualTo(9092);
        assertThat(options.dataDir()).isEqualTo(Path.of("dialer-data"));
    }

    @Test
    void ownOptionsAreReadAndTheRestPassedToTheServices() {
        StandaloneOptions options = StandaloneOptions.parse("--dialer.standalone.api-port=9000",
                "--dialer.standalone.ring-time=PT0.5S", "--logging.level.dev.dialer=DEBUG");

        assertThat(options.apiPort()).isEqualTo(9000);
        assertThat(options.ringTime()).isEqualTo(Duration.ofMillis(500));
        assertThat(options.springArgs()).containsExactly("--logging.level.dev.dialer=DEBUG");
    }

    @Test
    void runsEveryServiceUnlessToldWhich() {
        assertThat(StandaloneOptions.parse().services()).containsExactlyInAnyOrder("dispatcher", "webhook", "api");
        assertThat(StandaloneOptions.parse("--dialer.standalone.services=api").services()).containsExactly("api");
        assertThat(StandaloneOptions.parse("--dialer.standalone.services=api, webhook").services())
                .containsExactlyInAnyOrder("api", "webhook");
        assertThatThrownBy(() -> StandaloneOptions.parse("--dialer.standalone.services=api,dialer"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'dialer'");
    }

    @Test
    void aMistypedOptionIsRefused() {
        assertThatThrownBy(() -> StandaloneOptions.parse("--dialer.standalone.api-prot=9000"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("api-prot");
    }

    @Test
    void anOptionWhoseValueFollowsASpaceIsRefusedNotHandedToTheServices() {
        assertThatThrownBy(() -> StandaloneOptions.parse("--dialer.standalone.data-dir", "/srv/dialer"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--dialer.standalone.data-dir=<value>");
    }

    @Test
    void aValueThatIsNoNumberOrDurationIsRefusedNamingItsOption() {
        for (String arg : new String[] {"--dialer.standalone.partitions=abc", "--dialer.standalone.partitions=0",
                "--dialer.standalone.ring-time=2s", "--dialer.standalone.talk-time=-PT5S",
                "--dialer.standalone.api-port=eighty"}) {
            String option = arg.substring(0, arg.indexOf('='));
            assertThatThrownBy(() -> StandaloneOptions.parse(arg))
                    .as(arg)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith(option + " must be");
        }
    }

    @Test
    void aPortOutOfRangeIsRefused() {
        assertThatThrownBy(() -> StandaloneOptions.parse("--dialer.standalone.kafka-port=70000"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafka-port");
    }
}
