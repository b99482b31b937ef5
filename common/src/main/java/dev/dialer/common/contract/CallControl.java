package dev.dialer.common.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.time.Instant;
import java.util.Locale;

/**
 * A cancel, pause or resume, as api-service publishes it on the compacted {@code dialer.call.control} topic keyed by
 * {@link #key()}. Every dispatcher reads the topic in full, so a control never queues behind the calls it controls.
 * The latest record per key wins: a campaign's {@code resume} replaces its {@code pause}; a {@code cancel} is final.
 * Its JSON Schema is {@code schemas/call-control.v1.json}.
 *
 * @param version   contract version, {@value #VERSION}
 * @param controlId unique id of this control (answered by the API with its 202)
 * @param action    what to do
 * @param scope     one request, or every request of a campaign
 * @param accountId the owning account
 * @param requestId the request, for {@link Scope#REQUEST}
 * @param campaign  the campaign name, for {@link Scope#CAMPAIGN}
 * @param issuedAt  when the customer asked; requests of a campaign accepted after a campaign cancel are not cancelled
 */
public record CallControl(
        int version,
        String controlId,
        Action action,
        Scope scope,
        String accountId,
        String requestId,
        String campaign,
        Instant issuedAt) {

    public static final int VERSION = 1;

    public CallControl {
        if (scope == Scope.REQUEST && requestId == null) {
            throw new IllegalArgumentException("a request control needs request_id");
        }
        if (scope == Scope.CAMPAIGN && campaign == null) {
            throw new IllegalArgumentException("a campaign control needs campaign");
        }
        if (scope == Scope.REQUEST && action != Action.CANCEL) {
            throw new IllegalArgumentException("only campaigns are paused and resumed");
        }
    }

    /** The record key: {@code request:<id>} or {@code campaign:<account>:<name>}. */
    public String key() {
        return scope == Scope.REQUEST ? requestKey(requestId) : campaignKey(accountId, campaign);
    }

    public static String requestKey(String requestId) {
        return "request:" + requestId;
    }

    public static String campaignKey(String accountId, String campaign) {
        return "campaign:" + accountId + ":" + campaign;
    }

    public enum Action {
        CANCEL, PAUSE, RESUME;

        @JsonValue
        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        @JsonCreator
        public static Action fromWire(String wire) {
            return valueOf(wire.toUpperCase(Locale.ROOT));
        }
    }

    public enum Scope {
        REQUEST, CAMPAIGN;

        @JsonValue
        public String wire() {
            return name().toLowerCase(Locale.ROOT);
        }

        @JsonCreator
        public static Scope fromWire(String wire) {
            return valueOf(wire.toUpperCase(Locale.ROOT));
        }
    }
}
