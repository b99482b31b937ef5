package dev.dialer.dispatcher.carrier;

/**
 * A call the carrier accepted.
 *
 * @param sid     the carrier's id of the call (jambonz {@code sid}, later {@code call_sid} in callbacks)
 * @param callId  the SIP Call-ID, when the carrier reports it
 * @param carrier the route name of the carrier that placed it ({@link Carrier#trunks}); null until the routing
 *                carrier names it
 */
public record PlacedCall(String sid, String callId, String carrier) {

    /** Placed by a carrier not yet named. */
    public PlacedCall(String sid, String callId) {
        this(sid, callId, null);
    }

    /** The same call, placed by the carrier named {@code name}. */
    public PlacedCall via(String name) {
        return new PlacedCall(sid, callId, name);
    }
}
