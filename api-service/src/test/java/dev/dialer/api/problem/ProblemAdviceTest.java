package dev.dialer.api.problem;

import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.reactive.function.BodyInserters;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Errors the framework raises on bad input are answered as 4xx problems, never as 500s. */
class ProblemAdviceTest {

    private final WebTestClient client = WebTestClient.bindToController(new ContentTypeReader())
            .controllerAdvice(new ProblemAdvice())
            .build();

    @Test
    void answersAContentTypeThatCannotBeParsedWith415() {
        client.post().uri("/content-type")
                .header("Content-Type", "application/json; charset=utf-9")
                .body(BodyInserters.fromDataBuffers(Flux.just(DefaultDataBufferFactory.sharedInstance.wrap(
                        new byte[] {'{', '}'}))))
                .exchange()
                .expectStatus().isEqualTo(415)
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody()
                .jsonPath("$.type").isEqualTo("https://dialer.dev/problems/unsupported-media-type")
                .jsonPath("$.status").isEqualTo(415)
                .jsonPath("$.instance").isEqualTo("/content-type");
    }

    /** Reads the Content-Type the way framework code does, which throws for a label it cannot parse. */
    @RestController
    static class ContentTypeReader {

        @PostMapping("/content-type")
        Mono<String> contentType(ServerHttpRequest request) {
            return Mono.just(String.valueOf(request.getHeaders().getContentType()));
        }
    }
}
