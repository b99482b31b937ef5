package dev.dialer.simulator;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The jambonz REST calls resource: create, read and update calls; and the account's applications, read only. Plain
 * functions from request to {@link Reply}, so the HTTP layer stays a thin adapter. All state is in memory: a
 * simulator keeps every call until it is closed.
 */
final class CallsApi {

    private static final Logger log = LoggerFactory.getLogger(CallsApi.class);
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };
    private static final long SWEEP_EVERY_NANOS = Duration.ofSeconds(1).toNanos();

    /** An HTTP answer: status and JSON body. */
    record Reply(int status, String json) {
    }

    private final SimulatorSettings settings;
    private final JsonMapper mapper;
    private final SimulatorMetrics metrics;
    private final Consumer<SimulatedCall> onCreated;
    private final Map<String, SimulatedCall> calls = new ConcurrentHashMap<>();
    /** The calls kept, in the order they arrived ({@link SimulatorSettings#keepCalls}). */
    private final ConcurrentLinkedQueue<Arrival> arrivals = new ConcurrentLinkedQueue<>();
    /** When the calls kept were last looked through for those to forget. */
    private final AtomicLong lastSweep = new AtomicLong(System.nanoTime());
    private final AtomicLong received = new AtomicLong();
    /** Calls that count against the account's concurrency limit: accepted, not refused for capacity, not ended. */
    private final AtomicInteger inProgress = new AtomicInteger();

    CallsApi(SimulatorSettings settings, JsonMapper mapper, SimulatorMetrics metrics,
             Consumer<SimulatedCall> onCreated) {
        this.settings = settings;
        this.mapper = mapper;
        this.metrics = metrics;
        this.onCreated = onCreated;
    }

    /** @return a refusal, or {@code null} when the caller may use the account */
    Reply authorize(String authorization, String accountSid) {
        if (settings.apiKey() != null && !("Bearer " + settings.apiKey()).equals(authorization)) {
            return message(401, "invalid or missing api key");
        }
        if (!settings.accountSid().equals(accountSid)) {
            return message(404, "account not found");
        }
        return null;
    }

    Reply create(String accountSid, String json) {
        CreateCallRequest.Parsed parsed = CreateCallRequest.parse(mapper, json);
        if (!parsed.valid()) {
            ObjectNode errors = mapper.createObjectNode();
            parsed.errors().forEach(errors.putArray("errors")::add);
            return new Reply(400, mapper.writeValueAsString(errors));
        }
        forgetOldCalls();
        AtomicLong endedAt = new AtomicLong();
        SimulatedCall call = newCall(accountSid, parsed.request(), endedAt);
        calls.put(call.received().callSid(), call);
        arrivals.add(new Arrival(call, System.nanoTime(), endedAt));
        received.incrementAndGet();
        metrics.callCreated(call.outcome());
        log.debug("Created call {} to {} ({}), outcome {}", call.received().callSid(), call.received().toNumber(),
                call.received().toType(), call.outcome());
        call.advance(StatusUpdate.TRYING);
        onCreated.accept(call);
        return new Reply(201, mapper.writeValueAsString(mapper.createObjectNode()
                .put("sid", call.received().callSid())
                .put("callId", call.received().callId())));
    }

    /**
     * {@code GET /v1/Applications/{sid}}, as jambonz answers it: the application with its hooks as objects
     * ({@code url}, {@code method}), {@code null} for a hook it does not have; 404 for an application it does not have.
     */
    Reply application(String authorization, String applicationSid) {
        Reply refusal = authorize(authorization, settings.accountSid());
        if (refusal != null) {
            return refusal;
        }
        Application application = settings.applications().find(applicationSid);
        if (application == null) {
            return message(404, "application not found");
        }
        ObjectNode json = mapper.createObjectNode()
                .put("application_sid", applicationSid)
                .put("account_sid", settings.accountSid())
                .put("name", applicationSid);
        json.set("call_hook", hook(application.callHook()));
        json.set("call_status_hook", hook(application.callStatusHook()));
        return new Reply(200, mapper.writeValueAsString(json));
    }

    private JsonNode hook(String url) {
        return url == null ? mapper.nullNode() : mapper.createObjectNode().put("url", url).put("method", "POST");
    }

    Reply get(String callSid) {
        SimulatedCall call = calls.get(callSid);
        return call == null ? message(404, "call not found") : new Reply(200, mapper.writeValueAsString(state(call)));
    }

    /** {@code call_status} "no-answer" cancels an unanswered call, "completed" hangs up an answered one. */
    Reply update(String callSid, String json) {
        SimulatedCall call = calls.get(callSid);
        if (call == null) {
            return message(404, "call not found");
        }
        String wanted = requestedStatus(json);
        boolean done;
        if ("no-answer".equals(wanted)) {
            done = call.cancel();
        } else if ("completed".equals(wanted)) {
            done = call.hangUp();
        } else {
            return message(400, "call_status must be no-answer or completed");
        }
        return done ? new Reply(202, "{}")
                : message(400, "call is " + call.current().callStatus() + ", cannot set " + wanted);
    }

    long received() {
        return received.get();
    }

    List<ReceivedCall> calls() {
        return arrivals.stream().map(arrival -> arrival.call().received()).toList();
    }

    /** A call, when it arrived and when it ended ({@link System#nanoTime}; 0 while it goes on). */
    private record Arrival(SimulatedCall call, long arrivedAt, AtomicLong endedAt) {
    }

    /**
     * Forgets the calls that ended {@link SimulatorSettings#keepCalls} ago or more, looked for at most every second
     * among those that arrived that long ago (the others cannot have): a simulator running for hours at a steady rate
     * would otherwise keep every call it was ever asked for, some kilobytes each. A call still going is kept, however
     * long it rings or talks, and holds none of the others.
     */
    private void forgetOldCalls() {
        Duration keep = settings.keepCalls();
        if (keep == null) {
            return;
        }
        long now = System.nanoTime();
        long last = lastSweep.get();
        if (now - last < Math.min(SWEEP_EVERY_NANOS, keep.toNanos()) || !lastSweep.compareAndSet(last, now)) {
            return;
        }
        for (Iterator<Arrival> kept = arrivals.iterator(); kept.hasNext(); ) {
            Arrival arrival = kept.next();
            if (now - arrival.arrivedAt() < keep.toNanos()) {
                return;
            }
            long ended = arrival.endedAt().get();
            if (ended != 0 && now - ended >= keep.toNanos()) {
                kept.remove();
                calls.remove(arrival.call().received().callSid(), arrival.call());
            }
        }
    }

    private SimulatedCall newCall(String accountSid, CreateCallRequest request, AtomicLong endedAt) {
        ReceivedCall received = new ReceivedCall(CallIds.uuid(), CallIds.uuid(),
                accountSid, request.from(), request.toAddress(), request.toType(), request.trunk(),
                request.applicationSid(), request.statusHook() == null ? null : request.statusHook().url(),
                toMap(request.tag()), toMap(request.body()));
        boolean placeTaken = !overLimit() && settings.maxCalls() > 0;
        Outcome outcome = settings.maxCalls() > 0 && !placeTaken ? Outcome.CAPACITY_REJECTED
                : settings.outcomeRule().decide(received.toNumber());
        boolean counted = placeTaken && outcome != Outcome.CAPACITY_REJECTED;
        if (placeTaken && !counted) {
            // Refused for capacity by the outcome rule: the call never takes the place it was given.
            inProgress.decrementAndGet();
        }
        String amdEvent = request.answeringMachineHook() == null ? null
                : settings.answeringMachineRule().decide(received.toNumber());
        return new SimulatedCall(received, request, statusHooks(request), outcome, amdEvent, CallIds.uuid(),
                CallIds.traceId(), update -> {
                    endedAt.set(System.nanoTime());
                    metrics.callEnded();
                    if (counted) {
                        inProgress.decrementAndGet();
                    }
                });
    }

    /**
     * Where the call's statuses go: when the request names an application the simulator has, that application's
     * {@code call_status_hook} instead of the request's own (jambonz-api-server's {@code validateCreateCall} copies the
     * application's hooks over the request's), none when it has none; and the request's {@code notifyUrl} besides, as
     * a Cognigy Voice Gateway posts to it alongside the application's hook.
     */
    private List<CreateCallRequest.StatusHook> statusHooks(CreateCallRequest request) {
        List<CreateCallRequest.StatusHook> hooks = new ArrayList<>(2);
        Application application = settings.applications().find(request.applicationSid());
        CreateCallRequest.StatusHook status = application == null ? request.statusHook()
                : application.callStatusHook() == null ? null
                : new CreateCallRequest.StatusHook(application.callStatusHook(), "POST", null, null);
        if (status != null) {
            hooks.add(status);
        }
        if (request.notifyHook() != null) {
            hooks.add(request.notifyHook());
        }
        return hooks;
    }

    /**
     * Takes a place under the account's concurrency limit, or says there is none: jambonz's SBC then answers the
     * INVITE 503 "Max Account Calls In Progress" with {@code X-Call-Limit: <limit>}, which the status hook reports.
     */
    private boolean overLimit() {
        int limit = settings.maxCalls();
        if (limit <= 0) {
            return false;
        }
        if (inProgress.incrementAndGet() > limit) {
            inProgress.decrementAndGet();
            metrics.capacityRejected();
            log.debug("account {} is at its limit of {} calls in progress", settings.accountSid(), limit);
            return true;
        }
        return false;
    }

    private ObjectNode state(SimulatedCall call) {
        ReceivedCall received = call.received();
        StatusUpdate current = call.current();
        ObjectNode json = mapper.createObjectNode()
                .put("call_sid", received.callSid())
                .put("call_id", received.callId())
                .put("sbc_callid", call.sbcCallId())
                .put("account_sid", received.accountSid())
                .put("direction", "outbound")
                .put("from", received.from())
                .put("to", received.toNumber())
                .put("caller_id", received.from())
                .put("call_status", current.callStatus())
                .put("sip_status", current.sipStatus())
                .put("sip_reason", current.sipReason())
                .put("duration", call.talkSeconds())
                .put("trace_id", call.traceId());
        if (received.applicationSid() != null) {
            json.put("application_sid", received.applicationSid());
        }
        if (call.request().tag() != null) {
            json.set("customerData", call.request().tag());
        }
        return json;
    }

    private String requestedStatus(String json) {
        try {
            JsonNode status = mapper.readTree(json).get("call_status");
            return status != null && status.isString() ? status.stringValue() : null;
        } catch (JacksonException e) {
            return null;
        }
    }

    private Map<String, Object> toMap(JsonNode node) {
        if (node == null) {
            return Map.of();
        }
        // JSON may hold nulls, which Map.copyOf refuses
        return Collections.unmodifiableMap(new LinkedHashMap<>(mapper.convertValue(node, MAP)));
    }

    private Reply message(int status, String message) {
        return new Reply(status, mapper.writeValueAsString(mapper.createObjectNode().put("msg", message)));
    }
}
