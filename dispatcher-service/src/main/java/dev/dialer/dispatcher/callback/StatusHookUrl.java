package dev.dialer.dispatcher.callback;

import dev.dialer.dispatcher.carrier.CarrierProperties;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.stereotype.Component;

/**
 * Where the carrier should post status callbacks: the configured {@code callback-url}, or this server's own
 * {@link #PATH} on 127.0.0.1 at the port it really listens on (known only once the server has started, which is
 * before the command pipeline starts). Answering-machine events go beside it ({@link #answeringMachine}).
 */
@Component
public class StatusHookUrl implements ApplicationListener<WebServerInitializedEvent> {

    /** The carrier-facing status callback endpoint. */
    public static final String PATH = "/carrier/voice-gateway/status";
    /** The carrier-facing answering-machine endpoint ({@code amd.actionHook}). */
    public static final String AMD_PATH = "/carrier/voice-gateway/amd";

    private final String configured;
    private volatile String url;

    StatusHookUrl(CarrierProperties properties) {
        this.configured = properties.callbackUrl();
        this.url = configured;
    }

    @Override
    public void onApplicationEvent(WebServerInitializedEvent event) {
        // A separate management server must not become the carrier's callback address.
        if (configured == null && event.getApplicationContext().getServerNamespace() == null) {
            url = "http://127.0.0.1:" + event.getWebServer().getPort() + PATH;
        }
    }

    /**
     * @throws IllegalStateException when no URL is configured and the server has not started yet
     */
    public String get() {
        String current = url;
        if (current == null) {
            throw new IllegalStateException("status hook URL unknown: the web server has not started");
        }
        return current;
    }

    /**
     * The answering-machine hook for a status hook URL: its last path segment {@code status} becomes {@code amd}
     * ({@code …/carrier/voice-gateway/status} → {@code …/carrier/voice-gateway/amd}); a URL whose path does not end in
     * {@code /status} gets {@code /amd} appended. A query or fragment is kept.
     */
    public static String answeringMachine(String statusHookUrl) {
        int suffix = indexOfSuffix(statusHookUrl);
        String base = statusHookUrl.substring(0, suffix);
        String rest = statusHookUrl.substring(suffix);
        if (base.endsWith("/status")) {
            return base.substring(0, base.length() - "status".length()) + "amd" + rest;
        }
        return base.replaceAll("/+$", "") + "/amd" + rest;
    }

    private static int indexOfSuffix(String url) {
        int query = url.indexOf('?');
        int fragment = url.indexOf('#');
        if (query < 0) {
            return fragment < 0 ? url.length() : fragment;
        }
        return fragment < 0 ? query : Math.min(query, fragment);
    }
}
