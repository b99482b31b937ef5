package dev.dialer.common.hook;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * What a URL the dialer will deliver to must be: a webhook's {@code url}, a call's {@code notifyUrl},
 * {@code actionHook} and {@code amd.actionHook}. webhook-service reads each with {@link URI} before every try and
 * signs a GET hook's query as ASCII, and tries plain http only where its {@link PlainHttpPolicy} allows, so a URL that
 * it would refuse or change is refused where the API takes it ({@link #problem(String, PlainHttpPolicy)}), naming the
 * field, rather than accepted and then never delivered to. Whether its host resolves to an address the delivery may
 * call is known only when it is tried.
 */
public final class HookUrls {

    /** The longest URL taken. */
    public static final int MAX_URL = 2048;
    private static final int MAX_PORT = 65_535;

    private HookUrls() {
    }

    /**
     * Null when {@code url} is an absolute http(s) URL with a host, in ASCII, and plain http only where the policy
     * allows it; otherwise what is wrong with it.
     */
    public static String problem(String url, PlainHttpPolicy plainHttp) {
        String problem = problem(url);
        return problem != null ? problem : plainHttp.problem(url);
    }

    /**
     * Null when {@code url} is an absolute http(s) URL with a host, in ASCII; otherwise what is wrong with it. Says
     * nothing of plain http: webhook-service checks a hook's URL with it before a try, and leaves plain http to its
     * target guard, which refuses such a try as a forbidden target.
     */
    public static String problem(String url) {
        if (url.length() > MAX_URL) {
            return "must be at most " + MAX_URL + " characters";
        }
        if (!url.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            return "must be written in ASCII without spaces (percent-encode other characters)";
        }
        try {
            URI uri = new URI(url);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!uri.isAbsolute() || !(scheme.equals("http") || scheme.equals("https"))) {
                return "must be an absolute http:// or https:// URL";
            }
            if (uri.getHost() == null || uri.getHost().isEmpty()) {
                return "must name a host";
            }
            if (uri.getHost().startsWith("[") && uri.getHost().contains("%")) {
                // An interface of the webhook service's own host: no address it may call.
                return "must not name an IPv6 zone (an address scoped to a network interface)";
            }
            if (uri.getPort() == 0 || uri.getPort() > MAX_PORT) {
                // java.net.URI takes any number; no connection can be made to such a port, every try would fail.
                return "must name a port from 1 to " + MAX_PORT;
            }
            return null;
        } catch (URISyntaxException e) {
            return "is not a valid URL: " + e.getReason();
        }
    }
}
