package dev.dialer.api;

import dev.dialer.api.problem.Problems;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import reactor.core.publisher.Mono;

/**
 * Reads a request body as text whatever its Content-Type. The codecs behind {@code @RequestBody} decide by the
 * Content-Type and refuse a String for {@code application/x-www-form-urlencoded}, which is exactly how curl labels
 * the seed's JSON examples; the endpoints that must accept them read the bytes themselves. The Content-Type matters
 * only for its charset, so a label that cannot be read at all ({@code json}, {@code charset=utf-9}) is no reason
 * to refuse the body: it is read as UTF-8, the encoding JSON is exchanged in (RFC 8259), as when there is no label.
 */
public final class RequestBodies {

    private RequestBodies() {
    }

    /**
     * The body decoded with the Content-Type's charset (UTF-8 when none, or when the Content-Type or its charset
     * cannot be read), empty text when there is no body; a 413 problem when it exceeds {@code maxBytes}. At most
     * {@code maxBytes + 1} bytes are buffered.
     */
    public static Mono<String> text(ServerHttpRequest request, int maxBytes) {
        if (request.getHeaders().getContentLength() > maxBytes) {
            // Refused before a byte is read: the server discards the unread body.
            return Mono.error(Problems.tooLarge(maxBytes));
        }
        Charset charset = charsetOf(request.getHeaders());
        // The cap ends the stream by cancelling it, never by an error thrown inside onNext: an error there (as
        // DataBufferUtils.join(body, max) raises) makes Reactor Netty release the same chunk twice.
        return DataBufferUtils.join(DataBufferUtils.takeUntilByteCount(request.getBody(), maxBytes + 1L))
                .map(buffer -> decode(buffer, charset, maxBytes))
                .defaultIfEmpty("");
    }

    private static String decode(DataBuffer buffer, Charset charset, int maxBytes) {
        try {
            if (buffer.readableByteCount() > maxBytes) {
                throw Problems.tooLarge(maxBytes);
            }
            return buffer.toString(charset);
        } finally {
            DataBufferUtils.release(buffer);
        }
    }

    /**
     * {@link HttpHeaders#getContentType()} throws for a label it cannot parse or a charset the JVM does not know;
     * either is read as no label at all.
     */
    static Charset charsetOf(HttpHeaders headers) {
        String label = headers.getFirst(HttpHeaders.CONTENT_TYPE);
        if (label == null || label.isBlank()) {
            return StandardCharsets.UTF_8;
        }
        try {
            Charset charset = MediaType.parseMediaType(label).getCharset();
            return charset == null ? StandardCharsets.UTF_8 : charset;
        } catch (IllegalArgumentException unreadable) {
            return StandardCharsets.UTF_8;
        }
    }
}
