package dev.dialer.api.send;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.account.Account;
import dev.dialer.api.kafka.AcknowledgedPublisher;
import dev.dialer.api.problem.ProblemAdvice;
import dev.dialer.common.kafka.KafkaPublisher;
import dev.dialer.common.kafka.KafkaSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.util.unit.DataSize;
import reactor.core.publisher.Mono;

/**
 * The send endpoint with a real Kafka producer pointed at a port nothing listens on: no acknowledgement arrives, so
 * the client gets a 503 problem with Retry-After instead of a 200 for a call Kafka does not have.
 */
class SendUnavailableTest {

    private static final SendProperties PROPERTIES = new SendProperties(DataSize.ofKilobytes(256), 1000);
    private static final Account ACCOUNT = new Account("acct-unavailable", "Test", "IN");

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final KafkaPublisher kafka = KafkaPublisher.create(KafkaSettings.of("127.0.0.1:" + closedPort()),
            "send-unavailable-test", Duration.ofMillis(500));
    private final WebTestClient client = WebTestClient
            .bindToController(new SendController(new OutgoingCalls(
                    new AcknowledgedPublisher(kafka, Duration.ofMillis(500), Duration.ofSeconds(7), registry),
                    (webhookId, accountId) -> Mono.just(true), SendSeams.defaults(), new SendSeams.InMemoryClaims(),
                    SendSeams.noLedger(), registry, PROPERTIES),
                    null, null, tools.jackson.databind.json.JsonMapper.builder().build(), PROPERTIES))
            .controllerAdvice(new ProblemAdvice())
            .webFilter((exchange, chain) -> {
                exchange.getAttributes().put(Account.ATTRIBUTE, ACCOUNT);
                return chain.filter(exchange);
            })
            .configureClient().responseTimeout(Duration.ofSeconds(20))
            .build();

    @AfterEach
    void closeProducer() {
        kafka.close();
    }

    @Test
    void answers503WithRetryAfterWhenKafkaDoesNotAcknowledge() {
        client.post().uri("/api/v2/outgoing/send")
                .header("Content-Type", MediaType.APPLICATION_FORM_URLENCODED_VALUE)
                .bodyValue(DocumentedBodies.FLOW_ID)
                .exchange()
                .expectStatus().isEqualTo(503)
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .expectHeader().valueEquals("Retry-After", "7")
                .expectBody()
                .jsonPath("$.type").isEqualTo("https://dialer.dev/problems/unavailable")
                .jsonPath("$.status").isEqualTo(503)
                .jsonPath("$.data").doesNotExist()
                .jsonPath("$.detail").value((String detail) -> assertThat(detail)
                        .as("no key to retry with: a new one would make a new send, dialled again")
                        .contains("had no Idempotency-Key").doesNotContain("same Idempotency-Key"));

        assertThat(registry.find("dialer.api.produce.latency").tag("outcome", "failed").timer().count())
                .isEqualTo(1);
        assertThat(registry.find("dialer.api.commands.produced").counter().count()).isZero();
    }

    static int closedPort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
