package dev.dialer.simulator;

import java.util.HashMap;
import java.util.Map;

/**
 * The account's applications, by sid.
 *
 * @param bySid  the applications by sid
 * @param others the application any other sid names; {@code null}: a sid the simulator does not know keeps the
 *               request's own {@code call_status_hook}, as if there were no applications at all (jambonz itself would
 *               refuse it, "application_sid not found"), for tests that are not about applications
 */
public record Applications(Map<String, Application> bySid, Application others) {

    /** No applications: every request keeps its own hooks. */
    public static final Applications NONE = new Applications(Map.of(), null);

    public Applications {
        bySid = Map.copyOf(bySid);
    }

    /** The application {@code sid} names, or {@code null} when there is none (or no sid). */
    public Application find(String sid) {
        return sid == null ? null : bySid.getOrDefault(sid, others);
    }

    Applications with(String sid, Application application) {
        Map<String, Application> more = new HashMap<>(bySid);
        more.put(sid, application);
        return new Applications(more, others);
    }

    Applications withOthers(Application application) {
        return new Applications(bySid, application);
    }
}
