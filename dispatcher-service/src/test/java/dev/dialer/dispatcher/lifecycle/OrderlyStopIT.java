package dev.dialer.dispatcher.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.Contract;
import dev.dialer.common.kafka.Topics;
import dev.dialer.dispatcher.TestDispatchers;
import dev.dialer.dispatcher.TestKafka;
import dev.dialer.infra.Infrastructure;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * An orderly stop of the command pipeline while a dial is on its way to the carrier (a real HTTP server that answers
 * only when the test lets it): the dial's attempt is claimed, so it would never be dialled again. The stop waits for
 * it, the carrier's answer is recorded, and only then does the pipeline go.
 */
class OrderlyStopIT {

    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final String RUN = "stop-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    private static final String GROUP = "dialer-dispatcher-" + RUN;
    private static final String CALLER = "+4940200001";

    private static final CountDownLatch answer = new CountDownLatch(1);
    private static final List<String> asked = new CopyOnWriteArrayList<>();
    private static final AtomicInteger answered = new AtomicInteger();
    private static DisposableServer carrier;
    private static ConfigurableApplicationContext dispatcher;

    @AfterAll
    static void close() {
        answer.countDown();
        if (dispatcher != null) {
            dispatcher.close();
        }
        if (carrier != null) {
            carrier.disposeNow();
        }
    }

    @Test
    void aStopLetsTheDialOnItsWayToTheCarrierEndAndRecordsItsCall() throws Exception {
        carrier = heldCarrier();
        String bootstrap = Infrastructure.shared().kafkaBootstrapServers();
        TestKafka.startGroupAtEnd(bootstrap, GROUP, Topics.CALL_COMMANDS, Topics.CARRIER_CALLBACKS);
        dispatcher = TestDispatchers.start(GROUP, 3, "http://127.0.0.1:" + carrier.port(), Map.of());
        String requestId = RUN + "1";
        try (KafkaProducer<String, String> producer = TestKafka.producer(bootstrap)) {
            producer.send(new ProducerRecord<>(Topics.CALL_COMMANDS, CALLER, """
                    {"version":1,"request_id":"%s","account_id":"acc-stop","caller_id":"%s","to":"+4915112345678",
                     "audio":"welcome.wav","created_at":"2025-06-01T12:00:00Z"}""".formatted(requestId, CALLER)))
                    .get();
        }
        await().atMost(WAIT).until(() -> asked.contains(requestId));

        CountDownLatch stopped = new CountDownLatch(1);
        dispatcher.getBean("commandConsumerLifecycle", SmartLifecycle.class).stop(stopped::countDown);

        assertThat(stopped.await(2, TimeUnit.SECONDS)).as("stopped while its dial waits for the carrier").isFalse();
        answer.countDown();
        assertThat(stopped.await(10, TimeUnit.SECONDS)).as("stopped once the dial ended").isTrue();
        DatabaseClient db = dispatcher.getBean(DatabaseClient.class);
        assertThat(db.sql("""
                        SELECT coalesce(provider_call_id, 'none') FROM dispatch.attempts
                         WHERE request_id = $1 AND attempt_no = 1""")
                .bind(0, requestId).map(row -> row.get(0, String.class)).one().block(WAIT))
                .as("the carrier's call, recorded: the watchdog can ask about it").isEqualTo("held-1");
    }

    /** Records who is asked for, and answers nobody until the latch opens. */
    private static DisposableServer heldCarrier() {
        return HttpServer.create().host("127.0.0.1").port(0)
                .route(routes -> routes.post("/v1/Accounts/{sid}/Calls", (request, response) -> request.receive()
                        .aggregate().asString()
                        .doOnNext(body -> asked.add(Contract.mapper().readTree(body).get("tag").get("request_id")
                                .stringValue()))
                        .flatMap(body -> Mono.fromCallable(() -> answer.await(WAIT.toSeconds(), TimeUnit.SECONDS))
                                .subscribeOn(Schedulers.boundedElastic()))
                        .flatMap(released -> response.status(201).header("content-type", "application/json")
                                .sendString(Mono.just("{\"sid\":\"held-" + answered.incrementAndGet() + "\"}"))
                                .then())))
                .bindNow();
    }
}
