package dev.dialer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.Problems;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import org.springframework.http.HttpMethod;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

class RequestBodiesTest {

    private final NettyDataBufferFactory factory = new NettyDataBufferFactory(Unpooled.buffer().alloc());
    private final List<ByteBuf> chunks = new ArrayList<>();

    @Test
    void readsAChunkedBodyAndReleasesEveryChunk() {
        MockServerHttpRequest request = chunked("bridge=91806", "8281234&to=", "919876543215");

        RequestBodies.text(request, 1024).as(StepVerifier::create)
                .expectNext("bridge=918068281234&to=919876543215")
                .verifyComplete();

        assertThat(chunks).allSatisfy(chunk -> assertThat(chunk.refCnt()).isZero());
    }

    @Test
    void refusesAChunkedBodyOverTheLimitWithoutLeakingOrOverReleasingChunks() {
        MockServerHttpRequest request = chunked("0123456789", "0123456789", "0123456789", "0123456789");

        RequestBodies.text(request, 25).as(StepVerifier::create)
                .expectErrorSatisfies(error -> assertThat(((ApiProblem) error).getStatusCode().value())
                        .isEqualTo(413))
                .verify(Duration.ofSeconds(5));

        // the chunks read are released once; the one never requested is still the sender's
        assertThat(chunks.subList(0, 3)).allSatisfy(chunk -> assertThat(chunk.refCnt()).isZero());
    }

    @Test
    void aBodyThatDoesNotArriveWithinTheTimeLimitIsA408AndWhatArrivedIsReleased() {
        ByteBuf first = Unpooled.copiedBuffer("bridge=91806", StandardCharsets.UTF_8);
        MockServerHttpRequest request = MockServerHttpRequest.method(HttpMethod.POST, "/api/v2/outgoing/send")
                .body(Flux.concat(Flux.just(factory.wrap(first)), Flux.never()));

        StepVerifier.withVirtualTime(() -> RequestBodies.text(request, 1024))
                .expectSubscription()
                // 30 s, and a second for each 8 KB a body of at most 1 KB may hold: none.
                .expectNoEvent(RequestBodies.timeLimit(1024).minusMillis(1))
                .thenAwait(Duration.ofMillis(1))
                .expectErrorSatisfies(error -> {
                    ApiProblem problem = (ApiProblem) error;
                    assertThat(problem.getStatusCode().value()).isEqualTo(408);
                    assertThat(problem.getBody().getType()).isEqualTo(Problems.REQUEST_TIMEOUT);
                })
                .verify(Duration.ofSeconds(5));
        assertThat(first.refCnt()).as("the part that arrived, released").isZero();
    }

    @Test
    void aLargerBodyMayTakeLongerToArrive() {
        assertThat(RequestBodies.timeLimit(256 * 1024)).isEqualTo(Duration.ofSeconds(62));
        assertThat(RequestBodies.timeLimit(1024 * 1024)).isEqualTo(Duration.ofSeconds(158));
    }

    @Test
    void aCompressedBodyIsA415SayingOnlyIdentityIsReadAndOneWithAnotherCodingIsRead() {
        MockServerHttpRequest gzipped = MockServerHttpRequest.method(HttpMethod.POST, "/api/v2/outgoing/send")
                .header("Content-Encoding", "gzip")
                .body("\u001f\u008b");
        RequestBodies.text(gzipped, 1024).as(StepVerifier::create)
                .expectErrorSatisfies(error -> {
                    ApiProblem problem = (ApiProblem) error;
                    assertThat(problem.getStatusCode().value()).isEqualTo(415);
                    assertThat(problem.getHeaders().getFirst("Accept-Encoding")).isEqualTo("identity");
                    assertThat(problem.getBody().getDetail()).contains("gzip");
                })
                .verify(Duration.ofSeconds(5));

        for (String notACompression : List.of("identity", "UTF-8")) {
            MockServerHttpRequest read = MockServerHttpRequest.method(HttpMethod.POST, "/api/v2/outgoing/send")
                    .header("Content-Encoding", notACompression)
                    .body("to=919876543215");
            RequestBodies.text(read, 1024).as(StepVerifier::create)
                    .expectNext("to=919876543215")
                    .verifyComplete();
        }
    }

    @Test
    void acceptsABodyOfExactlyTheLimit() {
        RequestBodies.text(chunked("0123456789", "01234"), 15).as(StepVerifier::create)
                .expectNext("012345678901234")
                .verifyComplete();
    }

    @Test
    void refusesADeclaredLengthOverTheLimitBeforeReading() {
        MockServerHttpRequest request = MockServerHttpRequest.method(HttpMethod.POST, "/api/v2/outgoing/send")
                .contentLength(10_000)
                .body(Flux.error(new AssertionError("the body must not be read")));

        RequestBodies.text(request, 1024).as(StepVerifier::create)
                .expectError(ApiProblem.class)
                .verify(Duration.ofSeconds(5));
    }

    @Test
    void answersEmptyTextForNoBody() {
        MockServerHttpRequest request = MockServerHttpRequest.method(HttpMethod.POST, "/x").build();

        RequestBodies.text(request, 1024).as(StepVerifier::create).expectNext("").verifyComplete();
    }

    @ParameterizedTest
    @ValueSource(strings = {"json", "application/json; charset=utf-9", "application/json; charset=\"utf 8\"", "/"})
    void readsABodyWhoseContentTypeCannotBeParsedAsUtf8(String contentType) {
        MockServerHttpRequest request = MockServerHttpRequest.method(HttpMethod.POST, "/api/v2/webhooks")
                .header("Content-Type", contentType)
                .body(bytes("{\"description\":\"Caf\u00e9\"}".getBytes(StandardCharsets.UTF_8)));

        RequestBodies.text(request, 1024).as(StepVerifier::create)
                .expectNext("{\"description\":\"Caf\u00e9\"}")
                .verifyComplete();
    }

    @Test
    void decodesWithTheCharsetTheContentTypeNames() {
        MockServerHttpRequest request = MockServerHttpRequest.method(HttpMethod.POST, "/api/v2/webhooks")
                .header("Content-Type", "application/json; charset=ISO-8859-1")
                .body(bytes("{\"description\":\"Caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1)));

        RequestBodies.text(request, 1024).as(StepVerifier::create)
                .expectNext("{\"description\":\"Caf\u00e9\"}")
                .verifyComplete();
    }

    @Test
    void refusesABodyThatIsNotTextInItsCharsetAsMalformedRatherThanReplacingWhatItCannotRead() {
        byte[] latin1 = "{\"description\":\"Caf\u00e9\"}".getBytes(StandardCharsets.ISO_8859_1);
        MockServerHttpRequest request = MockServerHttpRequest.method(HttpMethod.POST, "/api/v2/webhooks")
                .header("Content-Type", "application/json")
                .body(bytes(latin1));

        RequestBodies.text(request, 1024).as(StepVerifier::create)
                .expectErrorSatisfies(error -> {
                    ApiProblem problem = (ApiProblem) error;
                    assertThat(problem.getStatusCode().value()).isEqualTo(400);
                    assertThat(problem.getBody().getType()).isEqualTo(Problems.MALFORMED_REQUEST);
                    assertThat(problem.getBody().getDetail()).isEqualTo("The body is not valid UTF-8 text (at byte "
                            + "offset 19); send it in the charset its Content-Type names, UTF-8 when it names none.");
                })
                .verify(Duration.ofSeconds(5));
        assertThat(chunks).allSatisfy(chunk -> assertThat(chunk.refCnt()).isZero());
    }

    @Test
    void refusesABodyWithoutAContentTypeThatIsNotUtf8() {
        MockServerHttpRequest request = MockServerHttpRequest.method(HttpMethod.POST, "/api/v2/outgoing/send")
                .body(bytes(new byte[] {'t', 'o', '=', (byte) 0xC3, '(', '1'}));

        RequestBodies.text(request, 1024).as(StepVerifier::create)
                .expectErrorSatisfies(error -> assertThat(((ApiProblem) error).getBody().getDetail())
                        .startsWith("The body is not valid UTF-8 text (at byte offset 3)"))
                .verify(Duration.ofSeconds(5));
    }

    private Flux<DataBuffer> bytes(byte[] body) {
        ByteBuf chunk = Unpooled.wrappedBuffer(body);
        chunks.add(chunk);
        return Flux.just(factory.wrap(chunk));
    }

    private MockServerHttpRequest chunked(String... parts) {
        List<DataBuffer> buffers = new ArrayList<>();
        for (String part : parts) {
            ByteBuf chunk = Unpooled.copiedBuffer(part, StandardCharsets.UTF_8);
            chunks.add(chunk);
            buffers.add(factory.wrap(chunk));
        }
        return MockServerHttpRequest.method(HttpMethod.POST, "/api/v2/outgoing/send").body(Flux.fromIterable(buffers));
    }
}
