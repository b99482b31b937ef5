package dev.dialer.api;

import dev.dialer.api.problem.Problems;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import reactor.core.publisher.Mono;

/**
 * Reads a request body as text whatever its Content-Type. The codecs behind {@code @RequestBody} decide by the
 * Content-Type and refuse a String for {@code application/x-www-form-urlencoded}, which is exactly how curl labels
 * the seed's JSON examples; the endpoints that must accept them read the bytes themselves.
 */
public final class RequestBodies {

    private RequestBodies() {
    }

    /**
     * The body decoded with the Content-Type's charset (UTF-8 when none), empty text when there is no body; a
     * 413 problem when it exceeds {@code maxBytes}. At most {@code maxBytes + 1} bytes are buffered.
     */
    public static Mono<String> text(ServerHttpRequest request, int maxBytes) {
        if (request.getHeaders().getContentLength() > maxBytes) {
            // Refused before a byte is read: the server discards the unread body.
            return Mono.error(Problems.tooLarge(maxBytes));
        }
        Charset charset = charsetOf(request.getHeaders().getContentType());
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

    private static Charset charsetOf(MediaType type) {
        return type == null || type.getCharset() == null ? StandardCharsets.UTF_8 : type.getCharset();
    }
}
