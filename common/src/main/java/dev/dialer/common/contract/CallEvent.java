package dev.dialer.common.contract;

import dev.dialer.common.db.PostgresText;
import java.time.Instant;

/**
 * One change in a call's life: the value of a {@code dialer.call.events} record, keyed by {@link #requestId()}
 * so a call's events stay in order. Written only by the dispatcher; its JSON Schema is
 * {@code schemas/call-event.v1.json}. Never carries the request's variables.
 *
 * <p>What the carrier said in it ({@code provider_status}, {@code provider_call_id}, {@code sip_reason}, and
 * {@code error.message}, which often quotes the carrier's answer) is kept as PostgreSQL can store it
 * ({@link PostgresText}): a NUL character becomes U+FFFD. The dispatcher writes each event to its outbox as
 * {@code jsonb}, which refuses a NUL, every time, in the statement that also makes the change the event reports; a
 * carrier's answer holding one would leave that change unmade, for good: a create-call's failure never recorded (the
 * command dead-lettered, its trunk slot held until the watchdog), a callback never applied. The command's own fields
 * need no such care: the command is refused with a NUL in any of them.
 *
 * @param version        contract version, {@value #VERSION}
 * @param eventId        unique id of this event (stable across webhook retries)
 * @param eventType      {@code call.status}, {@code call.deferred}, {@code call.final} or
 *                       {@code call.cancel_rejected}
 * @param requestId      the call's id
 * @param accountId      the owning account
 * @param attempt        attempt number and the most the request may use
 * @param sequenceNumber monotonic per request, across attempts: receivers order by it
 * @param status         attempt status for {@code call.status} ({@link AttemptStatus}), the final status for
 *                       {@code call.final} ({@link FinalStatus}), {@code deferred} for {@code call.deferred}, the
 *                       call's status at the time for {@code call.cancel_rejected}
 * @param previousStatus the status before this one, if any
 * @param providerStatus the carrier's raw status (jambonz {@code call_status})
 * @param providerCallId the carrier's id of the attempt (jambonz {@code call_sid})
 * @param sipStatus      SIP status code of the attempt's final response, if known
 * @param sipReason      SIP reason phrase
 * @param willRetry      whether the request now waits to be dialled again: {@code true} on an attempt's end that
 *                       schedules the next attempt and on a {@code call.deferred}; {@code false} on every other event
 *                       (an attempt not ended yet has scheduled nothing); null only in an event written before it
 *                       was always set
 * @param nextAttemptAt  when the next attempt is due, when {@code willRetry}
 * @param durationSeconds talk time of a completed call
 * @param answeredBy     answering-machine detection result, when enabled
 * @param error          why a request failed without a carrier outcome
 * @param reason         why the request waits ({@code call.deferred}: {@code calling_window}, {@code callee_cap},
 *                       {@code paused}, {@code capacity}, …) or was refused by policy ({@code call.final}
 *                       {@code blocked}: {@code dnc}, {@code caller_id_not_allowed}, {@code flow_not_allowed};
 *                       {@code expired}: {@code valid_until}), or why a cancel was refused
 *                       ({@code call.cancel_rejected}: {@code too_late})
 * @param callerId       caller ID, E.164
 * @param to             callee: E.164, a SIP URI or {@code user:<name>}, as the command named it
 * @param campaign       campaign name
 * @param foreignId      the client's own reference
 * @param webhookId      the request's webhook
 * @param notifyUrl      the request's status hook (Voice Gateway dialect)
 * @param actionHook     the request's final-outcome hook (Voice Gateway dialect)
 * @param amdHook        the request's {@code amd.actionHook}, which gets the event carrying a detection (Voice
 *                       Gateway dialect)
 * @param createdAt      when the request was accepted
 * @param occurredAt     when the change happened
 */
public record CallEvent(
        int version,
        String eventId,
        EventType eventType,
        String requestId,
        String accountId,
        Attempt attempt,
        long sequenceNumber,
        String status,
        String previousStatus,
        String providerStatus,
        String providerCallId,
        Integer sipStatus,
        String sipReason,
        Boolean willRetry,
        Instant nextAttemptAt,
        Integer durationSeconds,
        String answeredBy,
        ErrorInfo error,
        String reason,
        String callerId,
        String to,
        String campaign,
        String foreignId,
        String webhookId,
        Hook notifyUrl,
        Hook actionHook,
        Hook amdHook,
        Instant createdAt,
        Instant occurredAt) {

    public static final int VERSION = 1;

    public CallEvent {
        providerStatus = PostgresText.storable(providerStatus);
        providerCallId = PostgresText.storable(providerCallId);
        sipReason = PostgresText.storable(sipReason);
    }

    /** Attempt number and the most attempts the request may use. */
    public record Attempt(int number, int max) {
    }

    /** Why a request ended without a carrier outcome, e.g. {@code status_timeout}. */
    public record ErrorInfo(String code, String message) {

        public ErrorInfo {
            message = PostgresText.storable(message);
        }
    }

    /** An event for {@code command} with its routing fields filled in; the caller sets the rest. */
    public static Builder about(CallCommand command) {
        return new Builder(command);
    }

    /** Fills the routing fields from the command so that no producer can forget one. */
    public static final class Builder {
        private final CallCommand command;
        private String eventId;
        private EventType eventType = EventType.STATUS;
        private int attempt;
        private long sequenceNumber;
        private String status;
        private String previousStatus;
        private String providerStatus;
        private String providerCallId;
        private Integer sipStatus;
        private String sipReason;
        private Boolean willRetry;
        private Instant nextAttemptAt;
        private Integer durationSeconds;
        private String answeredBy;
        private ErrorInfo error;
        private String reason;
        private Instant occurredAt;

        private Builder(CallCommand command) {
            this.command = command;
            this.attempt = command.attempt();
        }

        public Builder eventId(String value) { this.eventId = value; return this; }
        public Builder type(EventType value) { this.eventType = value; return this; }
        public Builder attempt(int value) { this.attempt = value; return this; }
        public Builder sequence(long value) { this.sequenceNumber = value; return this; }
        public Builder status(String value) { this.status = value; return this; }
        public Builder status(AttemptStatus value) { return status(value.wire()); }
        public Builder status(FinalStatus value) { return status(value.wire()); }
        public Builder previousStatus(String value) { this.previousStatus = value; return this; }
        public Builder provider(String rawStatus, String callId) {
            this.providerStatus = rawStatus;
            this.providerCallId = callId;
            return this;
        }
        public Builder sip(Integer code, String reason) { this.sipStatus = code; this.sipReason = reason; return this; }
        public Builder retry(Boolean will, Instant next) { this.willRetry = will; this.nextAttemptAt = next; return this; }
        public Builder durationSeconds(Integer value) { this.durationSeconds = value; return this; }
        public Builder answeredBy(String value) { this.answeredBy = value; return this; }
        public Builder error(String code, String message) { this.error = new ErrorInfo(code, message); return this; }
        public Builder reason(String value) { this.reason = value; return this; }
        public Builder occurredAt(Instant value) { this.occurredAt = value; return this; }

        public CallEvent build() {
            return new CallEvent(VERSION, eventId == null ? java.util.UUID.randomUUID().toString() : eventId,
                    eventType, command.requestId(), command.accountId(),
                    new Attempt(attempt, command.allowedAttempts()), sequenceNumber, status, previousStatus,
                    providerStatus, providerCallId, sipStatus, sipReason, Boolean.TRUE.equals(willRetry), nextAttemptAt,
                    durationSeconds, answeredBy, error, reason, command.callerId(), command.to(), command.campaign(),
                    command.foreignId(), command.webhookId(), command.notifyUrl(), command.actionHook(),
                    command.amdHook(), command.createdAt(), occurredAt == null ? Instant.now() : occurredAt);
        }
    }
}
