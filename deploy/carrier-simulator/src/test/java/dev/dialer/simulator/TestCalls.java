package dev.dialer.simulator;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import tools.jackson.databind.json.JsonMapper;

/** Builds {@link SimulatedCall}s from request JSON, as the API does, for unit tests. */
final class TestCalls {

    static final JsonMapper MAPPER = JsonMapper.builder().build();

    private TestCalls() {
    }

    static CreateCallRequest request(String number, String extraJson) {
        String json = """
                {"from":"15557770000","to":{"type":"phone","number":"%s"},"application_sid":"app-1",
                 "call_status_hook":"http://127.0.0.1:1/hooks"%s}""".formatted(number, extraJson);
        CreateCallRequest.Parsed parsed = CreateCallRequest.parse(MAPPER, json);
        if (!parsed.valid()) {
            throw new IllegalArgumentException(parsed.errors().toString());
        }
        return parsed.request();
    }

    static SimulatedCall call(String number, String extraJson, AtomicInteger finals) {
        CreateCallRequest request = request(number, extraJson);
        ReceivedCall received = new ReceivedCall(CallIds.uuid(), CallIds.uuid(), "dialer", request.from(),
                request.toAddress(), request.toType(), request.trunk(), request.applicationSid(),
                request.statusHook().url(), Map.of(), Map.of());
        String amdEvent = request.answeringMachineHook() == null ? null
                : AnsweringMachineRule.lastDigit().decide(number);
        SimulatedCall call = new SimulatedCall(received, request, List.of(request.statusHook()),
                OutcomeRule.lastDigit().decide(number), amdEvent, CallIds.uuid(), CallIds.traceId(),
                update -> finals.incrementAndGet());
        call.advance(StatusUpdate.TRYING);
        return call;
    }
}
