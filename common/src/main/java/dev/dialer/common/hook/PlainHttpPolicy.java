package dev.dialer.common.hook;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;

/**
 * Where a URL the dialer delivers to may use plain {@code http://}: one policy for webhook-service, which refuses every
 * try of such a URL otherwise ({@code dialer.webhook.delivery.plain-http}, {@code allowed-hosts}), and api-service,
 * which refuses it where it is given, naming the field ({@code dialer.api.hooks.plain-http}, {@code allowed-hosts}),
 * rather than accept a URL that would never be delivered to. The two are configured alike; {@code https://} is never
 * refused here.
 *
 * @param mode      where plain http may be used
 * @param allowList the hosts and addresses allowed (as webhook-service's {@code allowed-hosts})
 */
public record PlainHttpPolicy(Mode mode, AllowList allowList) {

    /** Where plain http may be used. */
    public enum Mode {
        /** Everywhere (local development). */
        ALLOWED,
        /** Only to a host on the allow list: a host name on it, or an IP literal it holds (the default). */
        ALLOW_LISTED,
        /** Nowhere. */
        REFUSED
    }

    /** Both services' default: plain http only to allow-listed hosts, and none is allow-listed. */
    public static PlainHttpPolicy defaults() {
        return new PlainHttpPolicy(Mode.ALLOW_LISTED, new AllowList(List.of()));
    }

    /**
     * Whether plain http may be used to the host, as a URL names it (an IPv6 literal with or without brackets). Never
     * to an IPv6 literal with a zone id, which is no place to deliver to.
     */
    public boolean allowsHttpTo(String host) {
        return switch (mode) {
            case ALLOWED -> true;
            case REFUSED -> false;
            case ALLOW_LISTED -> {
                String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1)
                        : host;
                if (!AllowList.isLiteral(bare)) {
                    yield allowList.allowsHost(bare);
                }
                InetAddress literal = bare.indexOf('%') >= 0 ? null : literalOrNull(bare);
                yield literal != null && allowList.allows(literal);
            }
        };
    }

    /**
     * Null when the URL may be delivered to as far as its scheme goes: https, or plain http where this policy allows
     * it; otherwise what is wrong with it. A URL that is not an absolute http(s) URL with a host is left to
     * {@link HookUrls#problem(String)}.
     */
    public String problem(String url) {
        try {
            URI uri = new URI(url.trim());
            if (uri.getScheme() == null || !uri.getScheme().toLowerCase(Locale.ROOT).equals("http")
                    || uri.getHost() == null || allowsHttpTo(uri.getHost())) {
                return null;
            }
            return mode == Mode.REFUSED ? "must be an https:// URL (plain http:// is not delivered to)"
                    : "must be an https:// URL (plain http:// is delivered only to allow-listed hosts)";
        } catch (URISyntaxException e) {
            return null;
        }
    }

    private static InetAddress literalOrNull(String host) {
        try {
            return AllowList.literal(host);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
