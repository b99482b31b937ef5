package dev.dialer.api;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;

/**
 * Percent-decoding that never reads bytes as U+FFFD: a form's names and values (the send API's form bodies), and the
 * URL's query and path ({@link NulInUrl}).
 */
public final class PercentDecoding {

    private PercentDecoding() {
    }

    /**
     * {@code text} form-decoded: '+' is a space, and each run of {@code %XX} escapes is bytes of text in
     * {@code charset}. Not {@link java.net.URLDecoder}, which turns bytes it cannot read into U+FFFD: {@code Caf%E9}
     * and {@code Caf%E8} would be one {@code foreign_id}.
     *
     * @throws Undecodable when a '%' is not followed by two hex digits, or the bytes are not text in {@code charset}
     */
    public static String decode(String text, Charset charset) throws Undecodable {
        if (text.indexOf('%') < 0 && text.indexOf('+') < 0) {
            return text;
        }
        StringBuilder decoded = new StringBuilder(text.length());
        ByteBuffer bytes = null;
        for (int i = 0; i < text.length(); ) {
            char c = text.charAt(i);
            if (c != '%') {
                decoded.append(c == '+' ? ' ' : c);
                i++;
                continue;
            }
            if (bytes == null) {
                bytes = ByteBuffer.allocate(text.length() / 3);
            }
            bytes.clear();
            while (i < text.length() && text.charAt(i) == '%') {
                int high = i + 2 < text.length() ? hex(text.charAt(i + 1)) : -1;
                int low = high < 0 ? -1 : hex(text.charAt(i + 2));
                if (low < 0) {
                    throw new Undecodable("holds a '%' not followed by two hex digits (at \""
                            + text.substring(i, Math.min(text.length(), i + 3)) + "\"); write a '%' itself as %25");
                }
                bytes.put((byte) (high << 4 | low));
                i += 3;
            }
            try {
                decoded.append(RequestBodies.strictly(bytes.flip(), charset));
            } catch (CharacterCodingException e) {
                throw new Undecodable("is not valid " + charset.name() + " once percent-decoded (the charset of the "
                        + "Content-Type, UTF-8 when it names none)");
            }
        }
        return decoded.toString();
    }

    /** Why a form's name or value cannot be decoded, said of it: {@code "<name> " + getMessage()}. */
    public static final class Undecodable extends Exception {

        Undecodable(String message) {
            super(message, null, false, false);
        }
    }

    /** The value of an ASCII hex digit, -1 for any other character (other scripts' digits included). */
    private static int hex(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        char lower = (char) (c | 0x20);
        return lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -1;
    }
}
