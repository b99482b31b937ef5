package dev.dialer.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A user's Spring argument replaces the launcher's for the same key rather than being joined to it; a calling window
 * given for the dispatcher or the preview is both services'.
 */
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
    void aCallingWindowGivenForTheDispatcherOrThePreviewIsTheOthersToo() {
        List<String> dispatcherOnly = List.of("--dialer.dispatcher.policy.default-calling-window=09:00-21:00");
        List<String> previewOnly = List.of("--dialer.api.preview.default-calling-window=08:00-20:00");

        assertThat(StandaloneStack.windowArg(dispatcherOnly, StandaloneStack.CALLING_WINDOW)).isEmpty();
        assertThat(StandaloneStack.windowArg(dispatcherOnly, StandaloneStack.PREVIEW_CALLING_WINDOW))
                .contains("--dialer.api.preview.default-calling-window=09:00-21:00");
        assertThat(StandaloneStack.windowArg(previewOnly, StandaloneStack.CALLING_WINDOW))
                .contains("--dialer.dispatcher.policy.default-calling-window=08:00-20:00");
        // Neither given: both open all day.
        assertThat(StandaloneStack.windowArg(List.of(), StandaloneStack.CALLING_WINDOW))
                .contains("--dialer.dispatcher.policy.default-calling-window=00:00-00:00");
        assertThat(StandaloneStack.windowArg(List.of(), StandaloneStack.PREVIEW_CALLING_WINDOW))
                .contains("--dialer.api.preview.default-calling-window=00:00-00:00");
    }

    @Test
    void theApiTakesPlainHttpToTheHostsTheLocalWebhookServiceDeliversTo() {
        assertThat(StandaloneStack.hookArgs(List.of()))
                .containsExactly("--dialer.api.hooks.allowed-hosts=127.0.0.1,localhost");
        assertThat(StandaloneStack.hookArgs(List.of("--dialer.webhook.delivery.allowed-hosts=10.0.0.0/8",
                "--dialer.webhook.delivery.plain-http=refused"))).containsExactly(
                "--dialer.api.hooks.allowed-hosts=10.0.0.0/8", "--dialer.api.hooks.plain-http=refused");
        // Given for the API itself: left as given.
        assertThat(StandaloneStack.hookArgs(List.of("--dialer.api.hooks.allowed-hosts=example.test"))).isEmpty();
    }

    @Test
    void eachServiceKeepsItsOwnPortAndName() {
        List<String> args = StandaloneStack.merged(LAUNCHER,
                List.of("--server.port=9999", "--spring.config.name=other"));

        assertThat(args).containsExactlyElementsOf(LAUNCHER);
    }
}
