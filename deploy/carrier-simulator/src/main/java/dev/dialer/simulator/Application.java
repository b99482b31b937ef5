package dev.dialer.simulator;

/**
 * A Voice Gateway application as jambonz keeps it: what runs once a call is answered, and where the call's statuses
 * go. A create-call that names the application gets both in place of its own hooks: jambonz-api-server's
 * {@code validateCreateCall} copies the application's {@code call_hook} and {@code call_status_hook} over the
 * request's, so the request's {@code call_status_hook} is never used.
 *
 * @param callHook       the application's call webhook, or {@code null}
 * @param callStatusHook the application's call status webhook, or {@code null}: its calls then report to nobody but
 *                       the request's {@code notifyUrl}
 */
public record Application(String callHook, String callStatusHook) {

    /** An application whose statuses go to {@code callStatusHook}. */
    public static Application postingStatusesTo(String callStatusHook) {
        return new Application(null, callStatusHook);
    }
}
