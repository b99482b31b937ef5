package dev.dialer.api.send;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.dialer.api.account.Account;
import dev.dialer.api.idempotency.IdempotencyKey;
import dev.dialer.api.idempotency.RequestIds;
import dev.dialer.api.ids.TimeOrderedUuids;
import dev.dialer.api.kafka.AcknowledgedPublisher;
import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.ProblemAdvice;
import dev.dialer.api.problem.Problems;
import dev.dialer.api.settings.AccountSettingsLookup;
import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CommandReader;
import dev.dialer.common.kafka.OutboundRecord;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.util.unit.DataSize;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The send path's account rules and documented extensions, over HTTP without Kafka or PostgreSQL: allowed caller
 * IDs (403), the account's number region, foreign_id de-duplication, and max_attempts / valid_until / priority
 * carried into the command.
 */
class SendPolicyTest {

    private static final Account ACCOUNT = new Account("acct-policy", "Policy", "IN");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final SendProperties PROPERTIES = new SendProperties(DataSize.ofKilobytes(64), 1000);
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final SendControllerTest.CapturingPublisher publisher = new SendControllerTest.CapturingPublisher();
    private final SendSeams.InMemoryClaims claims = new SendSeams.InMemoryClaims();

    private WebTestClient client(AccountSettingsLookup settings) {
        return client(settings, publisher);
    }

    private WebTestClient client(AccountSettingsLookup settings, AcknowledgedPublisher publisher) {
        return WebTestClient
                .bindToController(new SendController(new OutgoingCalls(publisher,
                        (webhookId, accountId) -> Mono.just(false), settings, claims, SendSeams.noLedger(),
                        new SimpleMeterRegistry(), PROPERTIES), null, null, JSON, PROPERTIES))
                .controllerAdvice(new ProblemAdvice())
                .webFilter((exchange, chain) -> {
                    exchange.getAttributes().put(Account.ATTRIBUTE, ACCOUNT);
                    return chain.filter(exchange);
                })
                .build();
    }

    private static AccountSettings allowing(String... callerIds) {
        return new AccountSettings(1, ACCOUNT.id(), null, null, List.of(), null, List.of(callerIds), null, null);
    }

    /**
     * Whatever a test made the API queue, the dispatcher must take: a command its schema refuses is dead-lettered after
     * the client was answered 200, and the call shows {@code queued} for ever.
     */
    @AfterEach
    void everyCommandQueuedPassesTheDispatchersReading() {
        for (OutboundRecord record : publisher.records) {
            new CommandReader().read(record.value());
        }
    }

    @Test
    void aCommandWithEveryFieldAtItsLargestPassesTheDispatchersReading() {
        // Variables near their bound (16,384 bytes as JSON): five of some 2,900 bytes each, escapes counted.
        String variables = IntStream.range(0, 5).mapToObj(i -> "\"%s\":\"%s\"".formatted(
                String.format("%064d", i), "é\\u0001\\\"😀".repeat(200))).collect(Collectors.joining(","));
        OutgoingCalls calls = new OutgoingCalls(publisher, (webhookId, accountId) -> Mono.just(true),
                SendSeams.defaults(), claims, SendSeams.noLedger(), new SimpleMeterRegistry(), PROPERTIES);
        SendResponse answer = calls.queue(ACCOUNT, """
                {"bridge":"+91%s8068281234","flow_id":"%s","audio":"https://cdn.example.com/%s","name":"%s",
                 "interval":60,"webhook_id":"%s","foreign_id":"%s","max_attempts":10,"priority":9,
                 "valid_until":"9999-12-31T23:59:59.999999999Z","variables":{%s},"variables[%s]":true,
                 "to":["919876543215",{"number":"+44 20 7123 4567","foreign_id":"%s"},"0044 7911 123456"]}"""
                .formatted(" ".repeat(51), "f".repeat(128), "a".repeat(2048 - 24), "ü".repeat(128), "w".repeat(64),
                        "é".repeat(128), variables, "v".repeat(64), "\\\"".repeat(128)), null).block(TIMEOUT);

        assertThat(answer.data()).extracting(SendResponse.Row::status).containsOnly(SendResponse.Row.QUEUED);
        assertThat(publisher.records).hasSize(3);
        CallCommand command = new CommandReader().read(publisher.records.get(1).value());
        assertThat(command.validUntil()).isEqualTo(Instant.parse("9999-12-31T23:59:59.999999999Z"));
        assertThat(command.foreignId()).isEqualTo("\"".repeat(128));
    }

    @Test
    void refusesAValidUntilPastTheYear9999NamingItAndQueuesNothing() {
        client(SendSeams.defaults()).post().uri("/api/v2/outgoing/send")
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue("""
                        {"bridge":"918068281234","to":"919876543215","flow_id":"1",
                         "valid_until":"+10000-01-01T00:00:00Z"}""")
                .exchange()
                .expectStatus().isBadRequest()
                .expectBody()
                .jsonPath("$.type").isEqualTo("https://dialer.dev/problems/validation")
                .jsonPath("$.errors[0].field").isEqualTo("valid_until");

        assertThat(publisher.records).isEmpty();
    }

    @Test
    void refusesACallerIdOutsideTheAllowedListWith403NamingBridge() {
        client(SendSeams.settings(allowing("+918068280000"))).post().uri("/api/v2/outgoing/send")
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"bridge\":\"918068281234\",\"to\":\"919876543215\",\"flow_id\":\"1\"}")
                .exchange()
                .expectStatus().isForbidden()
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody()
                .jsonPath("$.type").isEqualTo("https://dialer.dev/problems/forbidden")
                .jsonPath("$.errors[0].field").isEqualTo("bridge");

        assertThat(publisher.records).isEmpty();
    }

    @Test
    void acceptsACallerIdOnTheAllowedListWrittenAnyWay() {
        send(SendSeams.settings(allowing("+918068281234")),
                "{\"bridge\":\"08068281234\",\"to\":\"919876543215\",\"flow_id\":\"1\"}");

        assertThat(publisher.records).hasSize(1);
    }

    @Test
    void readsNumbersInTheRegionOfTheAccountsSettings() {
        AccountSettings us = new AccountSettings(1, ACCOUNT.id(), "US", null, List.of(), null, List.of(), null, null);
        send(SendSeams.settings(us), "{\"bridge\":\"2025550143\",\"to\":\"4155550123\",\"flow_id\":\"1\"}");

        CallCommand command = new CommandReader().read(publisher.records.get(0).value());
        assertThat(command.callerId()).isEqualTo("+12025550143");
        assertThat(command.to()).isEqualTo("+14155550123");
    }

    @Test
    void carriesMaxAttemptsValidUntilAndPriorityIntoTheCommand() {
        Instant until = Instant.now().plus(2, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);
        send(SendSeams.defaults(), """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","interval":5,"max_attempts":5,
                 "valid_until":"%s","priority":7}""".formatted(until));

        CallCommand command = new CommandReader().read(publisher.records.get(0).value());
        assertThat(command.maxAttempts()).isEqualTo(5);
        assertThat(command.validUntil()).isEqualTo(until);
        assertThat(command.priority()).isEqualTo(7);
    }

    @Test
    @SuppressWarnings("unchecked")
    void refusesExtensionsOutOfRangeNamingEachField() {
        client(SendSeams.defaults()).post().uri("/api/v2/outgoing/send")
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue("""
                        {"bridge":"918068281234","to":"919876543215","flow_id":"1","max_attempts":0,
                         "valid_until":"2001-01-01T00:00:00Z","priority":"high"}""")
                .exchange()
                .expectStatus().isBadRequest()
                .expectBody()
                .jsonPath("$.errors[*].field").value(fields -> assertThat((List<Object>) fields)
                        .containsExactlyInAnyOrder("max_attempts", "valid_until", "priority"));
    }

    @Test
    void answersARepeatedForeignIdAndNumberAsADuplicateOfTheFirstRequestWithoutQueuingIt() {
        AccountSettingsLookup settings = SendSeams.defaults();
        JsonNode first = send(settings,
                "{\"bridge\":\"918068281234\",\"to\":\"919876543215\",\"flow_id\":\"1\",\"foreign_id\":\"crm-9\"}");
        JsonNode second = send(settings, """
                {"bridge":"918068281234","flow_id":"1",
                 "to":[{"number":"919876543215","foreign_id":"crm-9"},{"number":"919876543216","foreign_id":"crm-9"}]}""");

        assertThat(publisher.records).hasSize(2);
        String firstId = first.get("data").get(0).get("id").asString();
        JsonNode duplicate = second.get("data").get(0);
        assertThat(duplicate.get("status").asString()).isEqualTo("duplicate");
        assertThat(duplicate.get("id").asString()).isEqualTo(firstId);
        assertThat(duplicate.get("credits").asInt()).isZero();
        assertThat(second.get("data").get(1).get("status").asString()).isEqualTo("queued");
        assertThat(second.get("data").get(1).get("foreign_id").asString()).isEqualTo("crm-9");
        assertThat(second.get("message").asString()).isEqualTo("1 calls queued, 0 rejected, 1 duplicate");
    }

    @Test
    void aRetryWithoutAKeyAfterAnAmbiguous503ReusesTheCallIdOfEachRecipientWithAForeignId() {
        LateAcknowledgement kafka = new LateAcknowledgement();
        WebTestClient client = client(SendSeams.defaults(), kafka);
        String body = """
                {"bridge":"918068281234","flow_id":"1",\
                "to":[{"number":"919876543215","foreign_id":"crm-5"},"919876543216"]}""";

        // Kafka stores both commands but acknowledges too late: 503, and the foreign_id claim is rolled back.
        client.post().uri("/api/v2/outgoing/send").contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange().expectStatus().isEqualTo(503);
        JsonNode retry = JSON.readTree(client.post().uri("/api/v2/outgoing/send")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange().expectStatus().isOk().expectBody().returnResult().getResponseBody());
        JsonNode again = JSON.readTree(client.post().uri("/api/v2/outgoing/send")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange().expectStatus().isOk().expectBody().returnResult().getResponseBody());

        List<String> ids = kafka.records.stream().map(r -> new CommandReader().read(r.value()).requestId()).toList();
        assertThat(ids).hasSize(5);
        // The recipient with a foreign_id has one id however often it is sent: the dispatcher dials it once.
        assertThat(ids.get(2)).isEqualTo(ids.get(0))
                .isEqualTo(RequestIds.ofForeignId(ACCOUNT.id(), "crm-5", "+919876543215"));
        assertThat(retry.get("data").get(0).get("status").asString()).isEqualTo("queued");
        assertThat(retry.get("data").get(0).get("id").asString()).isEqualTo(ids.get(0));
        // Without a foreign_id (nor a key) the retry is a new call: the documented limit.
        assertThat(ids.get(3)).isNotEqualTo(ids.get(1));
        // Once a request with the pair succeeded, the pair is a duplicate of that call.
        assertThat(again.get("data").get(0).get("status").asString()).isEqualTo("duplicate");
        assertThat(again.get("data").get(0).get("id").asString()).isEqualTo(ids.get(0));
        assertThat(again.get("message").asString()).isEqualTo("1 calls queued, 0 rejected, 1 duplicate");
    }

    @Test
    void queuesAForeignIdAndNumberGivenTwiceInOneRequestOnce() {
        JsonNode answer = send(SendSeams.defaults(), """
                {"bridge":"918068281234","flow_id":"1","foreign_id":"crm-6","to":"919876543215,919876543215"}""");

        assertThat(publisher.records).hasSize(1);
        assertThat(answer.get("data").get(0).get("status").asString()).isEqualTo("queued");
        assertThat(answer.get("data").get(1).get("status").asString()).isEqualTo("duplicate");
        assertThat(answer.get("data").get(1).get("id").asString())
                .isEqualTo(answer.get("data").get(0).get("id").asString());
    }

    @Test
    void queuesACalleeListedSeveralTimesInOneRequestOnceAnsweringTheRepeatsAsDuplicatesOfItsFirstListing() {
        JsonNode answer = send(SendSeams.defaults(), """
                {"bridge":"918068281234","flow_id":"1",
                 "to":["919876543215","+91 98765 43215","919876543216","09876543215"]}""");

        assertThat(publisher.records).hasSize(2);
        assertThat(publisher.records).extracting(r -> new CommandReader().read(r.value()).to())
                .containsExactly("+919876543215", "+919876543216");
        JsonNode rows = answer.get("data");
        String first = rows.get(0).get("id").asString();
        assertThat(rows).extracting(row -> row.get("status").asString())
                .containsExactly("queued", "duplicate", "queued", "duplicate");
        for (int repeat : new int[] {1, 3}) {
            assertThat(rows.get(repeat).get("id").asString()).isEqualTo(first);
            assertThat(rows.get(repeat).get("credits").asInt()).isZero();
            assertThat(rows.get(repeat).get("mobile").asString()).isEqualTo("919876543215");
        }
        assertThat(answer.get("message").asString()).isEqualTo("2 calls queued, 0 rejected, 2 duplicate");
    }

    @Test
    void aCalleeListedAgainWithAnotherForeignIdIsADuplicateOfItsFirstListing() {
        JsonNode answer = send(SendSeams.defaults(), """
                {"bridge":"918068281234","flow_id":"1","to":[{"number":"919876543215","foreign_id":"crm-a"},
                 {"number":"+919876543215","foreign_id":"crm-b"},"9876543215"]}""");

        assertThat(publisher.records).hasSize(1);
        JsonNode rows = answer.get("data");
        assertThat(rows).extracting(row -> row.get("status").asString())
                .containsExactly("queued", "duplicate", "duplicate");
        assertThat(rows.get(1).get("id").asString()).isEqualTo(rows.get(0).get("id").asString())
                .isEqualTo(RequestIds.ofForeignId(ACCOUNT.id(), "crm-a", "+919876543215"));
        assertThat(rows.get(1).get("foreign_id").asString()).isEqualTo("crm-b");
        assertThat(rows.get(2).get("id").asString()).isEqualTo(rows.get(0).get("id").asString());
    }

    @Test
    void aRepeatOfACalleeWhoseFirstListingIsADuplicateOfAnEarlierCallIsADuplicateOfThatCall() {
        // A claim that holds an id other than the pair's (one made before call ids were derived from the pair).
        claims.owners.put(ACCOUNT.id() + "\n" + ForeignIdClaims.Claim.key("crm-c", "+919876543215"),
                new ForeignIdClaims.Claim("crm-c", "+919876543215", "earlier-call", null));

        JsonNode answer = send(SendSeams.defaults(), """
                {"bridge":"918068281234","flow_id":"1",
                 "to":[{"number":"919876543215","foreign_id":"crm-c"},"919876543215","919876543216"]}""");

        assertThat(publisher.records).hasSize(1);
        JsonNode rows = answer.get("data");
        assertThat(rows).extracting(row -> row.get("status").asString())
                .containsExactly("duplicate", "duplicate", "queued");
        assertThat(rows.get(0).get("id").asString()).isEqualTo("earlier-call");
        assertThat(rows.get(1).get("id").asString()).isEqualTo("earlier-call");
    }

    @Test
    void aKeyedSendQueuesARepeatedCalleeOnceAndItsRetryAnswersTheSameRows() {
        OutgoingCalls calls = calls(publisher);
        String body = """
                {"bridge":"918068281234","flow_id":"1","to":"919876543215,919876543216,+919876543215"}""";
        IdempotencyKey key = new IdempotencyKey("k1", TimeOrderedUuids.send().toString());

        SendResponse first = calls.queue(ACCOUNT, body, key).block(TIMEOUT);
        SendResponse retry = calls.queue(ACCOUNT, body, key).block(TIMEOUT);

        assertThat(first.data()).extracting(SendResponse.Row::status)
                .containsExactly(SendResponse.Row.QUEUED, SendResponse.Row.QUEUED, OutgoingCalls.DUPLICATE);
        assertThat(first.data().get(2).id()).isEqualTo(first.data().get(0).id()).isEqualTo(key.callId(ACCOUNT.id(), 0));
        assertThat(retry.data()).extracting(SendResponse.Row::id, SendResponse.Row::status)
                .containsExactlyElementsOf(first.data().stream().map(row -> tuple(row.id(), row.status())).toList());
        // The retry produces the same two commands again: the dispatcher dials each id once.
        assertThat(publisher.records).extracting(r -> new CommandReader().read(r.value()).requestId())
                .containsExactly(key.callId(ACCOUNT.id(), 0), key.callId(ACCOUNT.id(), 1), key.callId(ACCOUNT.id(), 0),
                        key.callId(ACCOUNT.id(), 1));
    }

    @Test
    void aRetryAfterAKeyedAmbiguous503WithoutTheKeyOrWithAnotherQueuesTheSameCallIdForAForeignId() {
        LateAcknowledgement kafka = new LateAcknowledgement();
        OutgoingCalls calls = calls(kafka);
        String body = """
                {"bridge":"918068281234","to":"919876543215","flow_id":"1","foreign_id":"crm-7"}""";

        // Kafka stores the keyed try's command but acknowledges too late: 503, and the claim is rolled back.
        calls.queue(ACCOUNT, body, new IdempotencyKey("k1", "salt-1")).as(StepVerifier::create)
                .expectErrorSatisfies(error -> assertThat(((ApiProblem) error).getStatusCode().value()).isEqualTo(503))
                .verify(Duration.ofSeconds(5));
        JsonNode unkeyed = JSON.readTree(client(SendSeams.defaults(), kafka).post().uri("/api/v2/outgoing/send")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange().expectStatus().isOk().expectBody().returnResult().getResponseBody());
        SendResponse otherKey = calls.queue(ACCOUNT, body, new IdempotencyKey("k2", "salt-2")).block(TIMEOUT);

        List<String> ids = kafka.records.stream().map(r -> new CommandReader().read(r.value()).requestId()).toList();
        // The dispatcher dials an id once: the late-stored command and the retry's are one call.
        assertThat(ids).hasSize(2).containsOnly(RequestIds.ofForeignId(ACCOUNT.id(), "crm-7", "+919876543215"));
        assertThat(unkeyed.get("data").get(0).get("status").asString()).isEqualTo("queued");
        assertThat(otherKey.data().get(0).status()).isEqualTo(OutgoingCalls.DUPLICATE);
        assertThat(otherKey.data().get(0).id()).isEqualTo(ids.get(0));
    }

    @Test
    void aKeyedRetryCountsTheForeignIdClaimOfItsEarlierTryAsItsOwnAndAnotherKeysAsADuplicate() {
        OutgoingCalls calls = calls(publisher);
        String body = """
                {"bridge":"918068281234","to":"919876543215,919876543216","flow_id":"1","foreign_id":"crm-8"}""";
        IdempotencyKey key = new IdempotencyKey("k1", "salt-1");

        SendResponse first = calls.queue(ACCOUNT, body, key).block(TIMEOUT);
        // The first try's claims committed but its answer was never stored: the retry under the key produces again.
        SendResponse retry = calls.queue(ACCOUNT, body, key).block(TIMEOUT);
        SendResponse other = calls.queue(ACCOUNT, body, new IdempotencyKey("k2", "salt-2")).block(TIMEOUT);

        assertThat(retry.data()).extracting(SendResponse.Row::status).containsOnly(SendResponse.Row.QUEUED);
        assertThat(retry.data()).extracting(SendResponse.Row::id)
                .containsExactlyElementsOf(first.data().stream().map(SendResponse.Row::id).toList());
        assertThat(other.data()).extracting(SendResponse.Row::status).containsOnly(OutgoingCalls.DUPLICATE);
    }

    @Test
    void aSendWhoseForeignIdClaimsFailToCommitAfterKafkaHasItsCommandsIsAnAmbiguous503NotA500() {
        ForeignIdClaims commitFails = new SendSeams.CommitFails();
        WebTestClient client = WebTestClient
                .bindToController(new SendController(new OutgoingCalls(publisher,
                        (webhookId, accountId) -> Mono.just(false), SendSeams.defaults(), commitFails,
                        SendSeams.noLedger(), new SimpleMeterRegistry(), PROPERTIES), null, null, JSON, PROPERTIES))
                .controllerAdvice(new ProblemAdvice())
                .webFilter((exchange, chain) -> {
                    exchange.getAttributes().put(Account.ATTRIBUTE, ACCOUNT);
                    return chain.filter(exchange);
                })
                .build();

        client.post().uri("/api/v2/outgoing/send").contentType(MediaType.APPLICATION_JSON)
                .bodyValue("{\"bridge\":\"918068281234\",\"to\":\"919876543215\",\"flow_id\":\"1\","
                        + "\"foreign_id\":\"crm-10\"}")
                .exchange()
                .expectStatus().isEqualTo(503)
                .expectHeader().valueEquals("Retry-After", "1")
                .expectBody()
                .jsonPath("$.type").isEqualTo("https://dialer.dev/problems/unavailable")
                .jsonPath("$.detail").value(detail -> assertThat((String) detail)
                        .startsWith("The calls may have been queued")
                        .as("without a key only foreign_id recipients are safe to send again")
                        .contains("no Idempotency-Key").contains("queues the others again")
                        .doesNotContain("same Idempotency-Key"));

        assertThat(publisher.records).hasSize(1);
    }

    private OutgoingCalls calls(AcknowledgedPublisher kafka) {
        return new OutgoingCalls(kafka, (webhookId, accountId) -> Mono.just(false), SendSeams.defaults(), claims,
                SendSeams.noLedger(), new SimpleMeterRegistry(), PROPERTIES);
    }

    /** Kafka that stores the first batch but acknowledges it after the API gave up: the ambiguous 503. */
    static final class LateAcknowledgement extends SendControllerTest.CapturingPublisher {

        private final AtomicBoolean late = new AtomicBoolean(true);

        @Override
        public Mono<Void> publishAll(List<OutboundRecord> batch, String outcome) {
            return super.publishAll(batch, outcome).then(Mono.defer(() -> late.getAndSet(false)
                    ? Mono.error(Problems.unavailable("Kafka did not acknowledge in time.", Duration.ofSeconds(5),
                            null))
                    : Mono.empty()));
        }
    }

    private JsonNode send(AccountSettingsLookup settings, String body) {
        byte[] answer = client(settings).post().uri("/api/v2/outgoing/send")
                .contentType(MediaType.APPLICATION_JSON)
                .bodyValue(body)
                .exchange()
                .expectStatus().isOk()
                .expectBody().returnResult().getResponseBody();
        return JSON.readTree(answer);
    }
}
