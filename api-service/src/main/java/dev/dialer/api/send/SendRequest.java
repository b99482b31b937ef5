package dev.dialer.api.send;

import java.util.List;
import java.util.Map;

/**
 * A seed-dialect send request after parsing, before numbers are normalised.
 *
 * @param bridge     caller ID as written
 * @param to         recipients as written, in order
 * @param flowId     IVR flow, or null
 * @param audio      sound-file id or http(s) URL, or null
 * @param campaign   the seed's {@code name}
 * @param interval   retry interval in minutes
 * @param webhookId  webhook to notify, or null
 * @param variables  flow variables
 * @param foreignId  the client's reference, or null
 */
record SendRequest(String bridge, List<String> to, String flowId, String audio, String campaign, int interval,
                   String webhookId, Map<String, String> variables, String foreignId) {
}
