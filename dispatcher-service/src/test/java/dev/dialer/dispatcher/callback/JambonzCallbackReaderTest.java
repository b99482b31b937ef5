package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.dispatcher.attempt.AttemptOfCall;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JambonzCallbackReaderTest {

    @Test
    void readsStatusSipFieldsAndCorrelationIdsFromCustomerData() {
        JambonzCallbackReader.Parsed parsed = read("""
                {"call_sid":"cs-1","call_status":"completed","sip_status":200,"sip_reason":"OK","duration":42,
                 "customerData":{"request_id":"r-1","attempt":2,"account_id":"a"}}""");

        assertThat(parsed).isEqualTo(new JambonzCallbackReader.Parsed("completed", "r-1", 2, "cs-1", 200, "OK", 42,
                null, null, null, null, null, null));
    }

    /**
     * What the carrier said is applied with U+FFFD for a NUL character: the attempt's row ({@code text} columns) and
     * its event ({@code jsonb}) are written in one statement, which a NUL would fail every time.
     */
    @Test
    void aNulInWhatTheCarrierSaidIsAppliedAsAReplacementCharacter() {
        CarrierCallback callback = read("""
                {"call_sid":"cs\\u00001","call_status":"failed","sip_status":486,"sip_reason":"Busy\\u0000Here",
                 "customerData":{"request_id":"r-1","attempt":1}}""").as(AttemptStatus.FAILED);
        CarrierCallback detection = read("""
                {"call_sid":"cs-1","type":"amd_machine\\u0000detected",
                 "customerData":{"request_id":"r-1","attempt":1}}""").detected(null);

        assertThat(callback.providerCallId()).isEqualTo("cs\uFFFD1");
        assertThat(callback.sipReason()).isEqualTo("Busy\uFFFDHere");
        assertThat(callback.providerStatus()).isEqualTo("failed");
        assertThat(detection.providerStatus()).isEqualTo("amd_machine\uFFFDdetected");
    }

    @Test
    void aSipStatusOutsideRfc3261sCodesOrANegativeDurationIsNone() {
        for (String sip : new String[] {"0", "99", "700", "-486"}) {
            JambonzCallbackReader.Parsed parsed = read("""
                    {"call_sid":"cs-1","call_status":"failed","sip_status":%s,"duration":-5,
                     "customerData":{"request_id":"r-1","attempt":1}}""".formatted(sip));

            assertThat(parsed.sipStatus()).as(sip).isNull();
            assertThat(parsed.durationSeconds()).isNull();
        }
        assertThat(read("""
                {"call_sid":"cs-1","call_status":"completed","sip_status":699,"duration":0,
                 "customerData":{"request_id":"r-1","attempt":1}}""").sipStatus()).isEqualTo(699);
    }

    @Test
    void readsTheCallerIdTheTagRoutesTheCallbackBy() {
        assertThat(read("""
                {"call_status":"ringing","customerData":{"request_id":"r-1","attempt":1,"caller_id":"+4930555000"}}""")
                .callerId()).isEqualTo("+4930555000");
        assertThat(read("""
                {"call_status":"ringing","customerData":{"request_id":"r-1","attempt":1,"caller_id":" "}}""")
                .callerId()).as("a blank caller ID names none").isNull();
        assertThat(read("""
                {"call_status":"ringing","customerData":{"request_id":"r-1","attempt":1,"caller_id":7}}""")
                .callerId()).as("not a string").isNull();
    }

    @Test
    void readsWhichDialOfTheAttemptTheTagNamesAndCarriesItIntoTheCallback() {
        JambonzCallbackReader.Parsed parsed = read("""
                {"call_sid":"cs-2","call_status":"failed","sip_status":503,
                 "customerData":{"request_id":"r-1","attempt":1,"dial":2}}""");

        assertThat(parsed.dial()).isEqualTo(2);
        assertThat(parsed.as(AttemptStatus.FAILED).dial()).isEqualTo(2);
        assertThat(read("""
                {"call_status":"failed","customerData":{"request_id":"r-1","attempt":1,"dial":"3"}}""").dial())
                .as("a tag that passed through other systems may carry it as text").isEqualTo(3);
        assertThat(read("""
                {"call_status":"failed","customerData":{"request_id":"r-1","attempt":1,"dial":0}}""").dial())
                .as("no dial is numbered 0").isNull();
        assertThat(read("""
                {"call_status":"failed","customerData":{"request_id":"r-1","attempt":1}}""").as(AttemptStatus.FAILED)
                .dial()).as("an older tag names no dial").isNull();
    }

    @Test
    void readsAnAnsweringMachineEventByItsTypeWithoutCallStatus() {
        JambonzCallbackReader.Parsed parsed = read("""
                {"type":"amd_machine_detected","reason":"long greeting","call_sid":"cs-1",
                 "customerData":{"request_id":"r-1","attempt":1,"carrier":"primary","sent_at":1700000000123}}""");

        assertThat(parsed.isAnsweringMachineEvent()).isTrue();
        assertThat(parsed.amdType()).isEqualTo("amd_machine_detected");
        assertThat(parsed.carrier()).isEqualTo("primary");
        assertThat(parsed.sentAtMillis()).isEqualTo(1_700_000_000_123L);
        assertThat(parsed.detected(AnsweredBy.MACHINE)).satisfies(callback -> {
            assertThat(callback.isAnsweringMachineResult()).isTrue();
            assertThat(callback.answeredBy()).isEqualTo("machine");
            assertThat(callback.providerStatus()).isEqualTo("amd_machine_detected");
            assertThat(callback.carrier()).isEqualTo("primary");
        });
        assertThat(parsed.as(AttemptStatus.FAILED).carrier()).as("the route that placed the call")
                .isEqualTo("primary");
        assertThat(parsed.as(AttemptStatus.FAILED).afterRinging().carrier()).isEqualTo("primary");
    }

    @Test
    void aStatusCallbackIsNoAnsweringMachineEvent() {
        assertThat(read("""
                {"call_status":"in-progress","type":"call","customerData":{"request_id":"r-1","attempt":1}}""")
                .isAnsweringMachineEvent()).isFalse();
    }

    @Test
    void mapsJambonzAnsweringMachineEventsToTheAnsweredByVocabulary() {
        assertThat(AnsweredBy.of("amd_human_detected")).contains("human");
        assertThat(AnsweredBy.of("amd_machine_detected")).contains("machine");
        assertThat(AnsweredBy.of("amd_no_speech_detected")).contains("no_speech");
        assertThat(AnsweredBy.of("amd_decision_timeout")).contains("decision_timeout");
        assertThat(AnsweredBy.of("amd_tone_detected")).contains("tone");
        assertThat(AnsweredBy.of("amd_machine_stopped_speaking")).isEmpty();
        assertThat(AnsweredBy.of("amd_error")).isEmpty();
    }

    @Test
    void answeringMachineHookSitsBesideTheStatusHook() {
        assertThat(StatusHookUrl.answeringMachine("http://127.0.0.1:8081/carrier/voice-gateway/status"))
                .isEqualTo("http://127.0.0.1:8081/carrier/voice-gateway/amd");
        assertThat(StatusHookUrl.answeringMachine("https://lb.example.com/dialer/status?x=1#rc=2"))
                .isEqualTo("https://lb.example.com/dialer/amd?x=1#rc=2");
        assertThat(StatusHookUrl.answeringMachine("https://lb.example.com/hooks/"))
                .isEqualTo("https://lb.example.com/hooks/amd");
    }

    @Test
    void acceptsAttemptGivenAsString() {
        assertThat(read("""
                {"call_status":"ringing","customerData":{"request_id":"r-1","attempt":"3"}}""").attempt())
                .isEqualTo(3);
    }

    @Test
    void namesTheMissingCorrelationField() {
        assertThatThrownBy(() -> read("""
                {"call_status":"ringing","customerData":{"attempt":1}}"""))
                .isInstanceOfSatisfying(JambonzCallbackReader.InvalidCallback.class,
                        e -> assertThat(e.field()).isEqualTo("customerData.request_id"));
        assertThatThrownBy(() -> read("""
                {"call_status":"ringing","customerData":{"request_id":"r-1"}}"""))
                .isInstanceOfSatisfying(JambonzCallbackReader.InvalidCallback.class,
                        e -> assertThat(e.field()).isEqualTo("customerData.attempt"));
        assertThatThrownBy(() -> read("""
                {"customerData":{"request_id":"r-1","attempt":1}}"""))
                .isInstanceOfSatisfying(JambonzCallbackReader.InvalidCallback.class,
                        e -> assertThat(e.field()).isEqualTo("call_status"));
    }

    @Test
    void aBodyWhoseTagTheCallsApplicationReplacedIsTheCallsAloneByItsCallSid() {
        for (String data : new String[] {"{\"crm_step\":\"dob\",\"caller_id\":\"+4930555000\",\"dial\":4}",
                "{\"request_id\":7,\"attempt\":1}", "{\"request_id\":\"r-1\",\"attempt\":\"two\"}", "\"text\""}) {
            JambonzCallbackReader.Parsed parsed = read("""
                    {"call_sid":"cs-1","call_status":"completed","sip_status":200,"duration":42,"customerData":%s}"""
                    .formatted(data));

            assertThat(parsed.tagged()).as(data).isFalse();
            assertThat(parsed).isEqualTo(new JambonzCallbackReader.Parsed("completed", null, 0, "cs-1", 200, null, 42,
                    null, null, null, null, null, null));
        }
        assertThat(read("""
                {"call_sid":"cs-1","call_status":"completed"}""").tagged()).as("no customerData").isFalse();
    }

    @Test
    void aCallbackFoundByItsCallIsTheAttemptsAndTaggedAgainForTheTopic() {
        byte[] body = """
                {"call_sid":"cs-1","call_status":"completed","sip_status":200,"duration":42,"account_sid":"AC1",
                 "customerData":{"crm_step":"dob"}}""".getBytes(StandardCharsets.UTF_8);
        AttemptOfCall call = new AttemptOfCall("r-9", 2, 3, "+4930555000");

        JambonzCallbackReader.Parsed found = JambonzCallbackReader.read(body).of(call);
        JambonzCallbackReader.Parsed retagged = JambonzCallbackReader.read(JambonzCallbackReader.retagged(body, call));

        assertThat(found).isEqualTo(new JambonzCallbackReader.Parsed("completed", "r-9", 2, "cs-1", 200, null, 42,
                null, null, null, 3, "+4930555000", null));
        assertThat(retagged).isEqualTo(found);
        assertThat(new String(JambonzCallbackReader.retagged(body, call), StandardCharsets.UTF_8))
                .contains("\"account_sid\":\"AC1\"").doesNotContain("crm_step");
    }

    @Test
    void aVoiceGatewayCallbackIsBoundToItsCallWhereverItIsAppliedAndTheSipTrunksReportsAreNot() {
        byte[] status = """
                {"call_sid":"cs-1","call_status":"completed","customerData":{"request_id":"r-1","attempt":1}}"""
                .getBytes(StandardCharsets.UTF_8);
        byte[] detection = """
                {"type":"amd_human_detected","call_sid":"cs-1","customerData":{"request_id":"r-1","attempt":1}}"""
                .getBytes(StandardCharsets.UTF_8);
        Map<String, String> appended = Map.of(CallbackRecords.CALL_BOUND_HEADER, "true");

        assertThat(JambonzCallbackReader.read(status).as(AttemptStatus.COMPLETED).callBound()).isTrue();
        assertThat(JambonzCallbackReader.read(detection).detected(AnsweredBy.HUMAN).callBound()).isTrue();
        assertThat(CallbackRecords.read(status, appended)).hasValueSatisfying(callback -> {
            assertThat(callback.callBound()).isTrue();
            assertThat(callback.takenOver()).isFalse();
        });
        assertThat(CallbackRecords.read(detection, appended))
                .hasValueSatisfying(callback -> assertThat(callback.callBound()).isTrue());
        assertThat(CallbackRecords.read(status, Map.of())).as("a SIP trunk status")
                .hasValueSatisfying(callback -> assertThat(callback.callBound()).isFalse());
        assertThat(CallbackRecords.read(status, Map.of(SipStatusReports.TAKEN_OVER_HEADER, "true")))
                .as("a SIP call taken over").hasValueSatisfying(callback -> assertThat(callback.callBound()).isTrue());
        assertThatThrownBy(() -> CallbackRecords.read("""
                {"call_sid":"cs-1","call_status":"completed","customerData":{}}""".getBytes(StandardCharsets.UTF_8),
                appended)).as("the endpoint tags what it appends")
                .isInstanceOf(JambonzCallbackReader.InvalidCallback.class);
    }

    @Test
    void refusesBodyThatIsNotJson() {
        assertThatThrownBy(() -> read("call_status=ringing"))
                .isInstanceOfSatisfying(JambonzCallbackReader.InvalidCallback.class,
                        e -> assertThat(e.field()).isEqualTo("body"));
    }

    private static JambonzCallbackReader.Parsed read(String json) {
        return JambonzCallbackReader.read(json.getBytes(StandardCharsets.UTF_8));
    }
}
