package dev.dialer.webhook.delivery;

import dev.dialer.common.contract.Contract;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.StringJoiner;
import tools.jackson.databind.JsonNode;

/**
 * What one try sends, and what its signature covers. A {@code POST} (every webhook, and a hook that asks for it)
 * carries the event as its JSON body, and the signature covers the body. A {@code GET} or {@code HEAD} hook has no
 * body, so the event's top-level fields go into the query string instead, as jambonz sends a GET hook's payload:
 * added after any query the hook's URL already has, each value form-encoded (a space as {@code %20}), an object or
 * array as its JSON text, a null field left out. The signature then covers the request's raw query string, exactly
 * as sent: everything after the {@code ?}, the URL's own parameters included. A receiver verifies it as it would a
 * body, e.g. {@code new Webhook(secret).verify(rawQuery, headers)}.
 *
 * @param url    where the try goes
 * @param body   the body, empty for GET and HEAD
 * @param signed what the signature covers
 */
record HookRequest(String url, byte[] body, byte[] signed) {

    static HookRequest of(String method, String url, byte[] event) {
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            return new HookRequest(url, event, event);
        }
        int fragment = url.indexOf('#');
        String base = fragment < 0 ? url : url.substring(0, fragment);
        String fields = query(event);
        String sent = fields.isEmpty() ? base
                : base + (base.indexOf('?') < 0 ? "?" : base.endsWith("?") || base.endsWith("&") ? "" : "&") + fields;
        int question = sent.indexOf('?');
        String rawQuery = question < 0 ? "" : sent.substring(question + 1);
        return new HookRequest(sent, new byte[0], rawQuery.getBytes(StandardCharsets.US_ASCII));
    }

    /** The event's top-level fields as {@code name=value} pairs joined by {@code &}; none for a non-object. */
    static String query(byte[] event) {
        JsonNode root = Contract.mapper().readTree(event);
        StringJoiner pairs = new StringJoiner("&");
        if (root != null && root.isObject()) {
            for (Map.Entry<String, JsonNode> field : root.properties()) {
                JsonNode value = field.getValue();
                if (!value.isNull()) {
                    pairs.add(encode(field.getKey()) + "=" + encode(value.isValueNode() ? value.asString()
                            : value.toString()));
                }
            }
        }
        return pairs.toString();
    }

    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
