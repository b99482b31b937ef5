package dev.dialer.dispatcher.policy;

import dev.dialer.common.id.NameBasedUuids;
import java.util.UUID;

/**
 * Ids of {@code call.cancel_rejected} events: name-based (RFC 4122 version 5) on the control's id and the request's,
 * so acting on one control again for one request yields the same id, which {@code dispatch.cancel_rejections} records
 * once (and with it its event).
 */
final class CancelRejections {

    /** The namespace of these ids (a fixed random UUID). */
    static final UUID NAMESPACE = UUID.fromString("3b9a1f52-8c4e-4d0b-a6e7-91c2d54f0e38");

    private CancelRejections() {
    }

    static String eventId(String controlId, String requestId) {
        return NameBasedUuids.v5(NAMESPACE, controlId + "\n" + requestId).toString();
    }
}
