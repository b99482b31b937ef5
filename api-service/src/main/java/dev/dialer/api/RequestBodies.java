package dev.dialer.api;

import dev.dialer.api.problem.Problems;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import reactor.core.publisher.Mono;

/**
 * Reads a request body as text whatever its Content-Type. The codecs behind {@code @RequestBody} decide by the
 * Content-Type and refuse a String for {@code application/x-www-form-urlencoded}, which is exactly how curl labels the
 * send API document's JSON examples; the endpoints that must accept them read the bytes themselves. The Content-Type
 * matters only for its charset, so a label that cannot be read at all ({@code json}, {@code charset=utf-9}) is no
 * reason to refuse the body: it is read as UTF-8, the encoding JSON is exchanged in (RFC 8259), as when there is no
 * label. Bytes that are not text in that charset are refused, never read as U+FFFD: two values that differ only there
 * would be one value (one {@code foreign_id}), and the text stored would not be what the client sent.
 */
public final class RequestBodies {

    /**
     * How long a body may take to arrive whole, besides a second for every {@link #SLOWEST_BYTES_A_SECOND} it may
     * hold: a client that trickles its body (or stops sending it) would otherwise hold its connection, and what it
     * sent, for as long as it likes.
     */
    static final Duration TIME_LIMIT = Duration.ofSeconds(30);
    /** The slowest upload a body of the largest size an endpoint takes is waited for at: 8 KB a second. */
    static final int SLOWEST_BYTES_A_SECOND = 8 * 1024;
    /**
     * The codings of a compressed body ({@code Content-Encoding}), which the API does not read. Any other value (a
     * charset written there by mistake, {@code identity}) is read as no coding, as before.
     */
    private static final Set<String> COMPRESSIONS = Set.of("gzip", "x-gzip", "deflate", "br", "compress",
            "x-compress", "zstd");

    private RequestBodies() {
    }

    /**
     * The body decoded with the Content-Type's charset (UTF-8 when none, or when the Content-Type or its charset
     * cannot be read), empty text when there is no body; a 415 problem when it is compressed ({@code
     * Content-Encoding}), a 413 problem when it exceeds {@code maxBytes}, a
     * malformed-request problem when its bytes are not text in the charset, a 408 problem when it has not arrived
     * within {@link #timeLimit}. At most {@code maxBytes + 1} bytes are buffered.
     */
    public static Mono<String> text(ServerHttpRequest request, int maxBytes) {
        if (request.getHeaders().getContentLength() > maxBytes) {
            // Refused before a byte is read: the server discards the unread body.
            return Mono.error(Problems.tooLarge(maxBytes));
        }
        String encoding = request.getHeaders().getFirst(HttpHeaders.CONTENT_ENCODING);
        if (encoding != null && compressed(encoding)) {
            // Read as it is, a compressed body would be refused as text that is not UTF-8, sending the client after
            // its charset.
            return Mono.error(Problems.unsupportedContentEncoding(encoding.strip()));
        }
        Charset charset = charsetOf(request.getHeaders());
        Duration limit = timeLimit(maxBytes);
        // The cap ends the stream by cancelling it, never by an error thrown inside onNext: an error there (as
        // DataBufferUtils.join(body, max) raises) makes Reactor Netty release the same chunk twice.
        return DataBufferUtils.join(DataBufferUtils.takeUntilByteCount(request.getBody(), maxBytes + 1L))
                .timeout(limit, Mono.error(() -> Problems.requestTimeout(limit)))
                .map(buffer -> decode(buffer, charset, maxBytes))
                .defaultIfEmpty("");
    }

    /** How long a body of at most {@code maxBytes} may take to arrive: {@link #TIME_LIMIT}, and 8 KB a second. */
    static Duration timeLimit(int maxBytes) {
        return TIME_LIMIT.plusSeconds(maxBytes / SLOWEST_BYTES_A_SECOND);
    }

    /** Whether {@code encoding} (a Content-Encoding, maybe a list) names a compression. */
    private static boolean compressed(String encoding) {
        for (String coding : encoding.split(",")) {
            if (COMPRESSIONS.contains(coding.strip().toLowerCase(Locale.ROOT))) {
                return true;
            }
        }
        return false;
    }

    private static String decode(DataBuffer buffer, Charset charset, int maxBytes) {
        try {
            if (buffer.readableByteCount() > maxBytes) {
                throw Problems.tooLarge(maxBytes);
            }
            byte[] bytes = new byte[buffer.readableByteCount()];
            buffer.read(bytes);
            ByteBuffer input = ByteBuffer.wrap(bytes);
            try {
                return strictly(input, charset);
            } catch (CharacterCodingException e) {
                throw Problems.malformed("The body is not valid " + charset.name() + " text (at byte offset "
                        + input.position() + "); send it in the charset its Content-Type names, UTF-8 when it "
                        + "names none.");
            }
        } finally {
            DataBufferUtils.release(buffer);
        }
    }

    /**
     * {@code bytes} as text in {@code charset}, refusing any byte sequence that is not text in it (or a character it
     * cannot map) rather than reading it as U+FFFD, as {@code new String(bytes, charset)} does.
     *
     * @throws CharacterCodingException with {@code bytes} positioned where the sequence that cannot be read begins
     */
    public static String strictly(ByteBuffer bytes, Charset charset) throws CharacterCodingException {
        return charset.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(bytes)
                .toString();
    }

    /**
     * {@link HttpHeaders#getContentType()} throws for a label it cannot parse or a charset the JVM does not know;
     * either is read as no label at all.
     */
    public static Charset charsetOf(HttpHeaders headers) {
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
