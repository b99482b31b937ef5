package dev.dialer.common.contract;

/**
 * A customer URL the Voice Gateway dialect names per request ({@code notifyUrl}, {@code actionHook},
 * {@code amd.actionHook}).
 *
 * @param url    absolute http(s) URL
 * @param method HTTP method, {@code POST} when not given
 */
public record Hook(String url, String method) {

    public Hook {
        method = method == null || method.isBlank() ? "POST" : method.toUpperCase(java.util.Locale.ROOT);
    }
}
