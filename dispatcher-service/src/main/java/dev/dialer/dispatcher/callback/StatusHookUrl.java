package dev.dialer.dispatcher.callback;

import dev.dialer.dispatcher.carrier.CarrierProperties;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.stereotype.Component;

/**
 * Where the carrier should post status callbacks: the configured {@code callback-url}, or this server's own
 * {@link #PATH} on 127.0.0.1 at the port it really listens on (known only once the server has started, which is
 * before the command pipeline starts).
 */
@Component
public class StatusHookUrl implements ApplicationListener<WebServerInitializedEvent> {

    /** The carrier-facing status callback endpoint. */
    public static final String PATH = "/carrier/voice-gateway/status";

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
}
