package dev.dialer.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.infra.Infrastructure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The stack closes its services one after another, api-service first: what one service's context disposes of as it
 * closes must not be what the others still serve on (their HTTP servers, the dispatcher's carrier client, the
 * simulator), or the dispatcher drains its dials with its callback server and the carrier already gone.
 */
class ServicesCloseOneByOneIT {

    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void theApiClosedFirstLeavesTheDispatcherAndTheSimulatorServing() throws Exception {
        Path dataDir = Files.createTempDirectory("dialer-it-standalone-close-");
        StandaloneStack stack = null;
        try {
            stack = StandaloneStack.start(StandaloneOptions.parse("--dialer.standalone.services=api,dispatcher")
                    .withFreePorts().withDataDir(dataDir));
            assertThat(status("http://127.0.0.1:" + stack.dispatcherPort() + "/actuator/health")).isEqualTo(200);

            stack.service("api").close();

            assertThat(status("http://127.0.0.1:" + stack.dispatcherPort() + "/actuator/health"))
                    .as("the dispatcher's server").isEqualTo(200);
            assertThat(status(stack.simulator().baseUrl() + "/metrics")).as("the simulator's server").isEqualTo(200);
        } finally {
            if (stack != null) {
                stack.close();
            }
            Infrastructure.deleteQuietly(dataDir);
        }
    }

    private static int status(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }
}
