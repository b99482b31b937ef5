package dev.dialer.dispatcher.carrier;

import dev.dialer.common.db.PostgresText;

/**
 * A call the carrier accepted.
 *
 * <p>Its {@code sid} is kept as PostgreSQL can store it ({@link PostgresText}), as the callbacks that name it are
 * ({@link dev.dialer.dispatcher.callback.CarrierCallback}): a NUL character in it would fail, every time, the statement
 * that records it on the claimed attempt, and the command would be dead-lettered with the call perhaps ringing.
 *
 * @param sid     the carrier's id of the call (jambonz {@code sid}, later {@code call_sid} in callbacks)
 * @param callId  the SIP Call-ID, when the carrier reports it
 * @param carrier the route name of the carrier that placed it ({@link Carrier#trunks}); null until the routing
 *                carrier names it
 */
public record PlacedCall(String sid, String callId, String carrier) {

    public PlacedCall {
        sid = PostgresText.storable(sid);
    }

    /** Placed by a carrier not yet named. */
    public PlacedCall(String sid, String callId) {
        this(sid, callId, null);
    }

    /** The same call, placed by the carrier named {@code name}. */
    public PlacedCall via(String name) {
        return new PlacedCall(sid, callId, name);
    }
}
