package dev.dialer.dispatcher.carrier;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.CarrierOptions;
import dev.dialer.dispatcher.callback.TagSeal;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CreateCallBodyTest {

    private static final String HOOK = "http://127.0.0.1:8081/carrier/voice-gateway/status";
    private static final CarrierProperties PROPERTIES = new CarrierProperties("http://vg", "acc", null,
            "dialer-audio-player", null, null, Duration.ofSeconds(5), Duration.ofSeconds(60), Duration.ofHours(1),
            Duration.ofMinutes(5), false, Duration.ofMinutes(10), null);
    private static final CreateCallBody.Sender SENDER = new CreateCallBody.Sender(HOOK, "primary",
            Instant.ofEpochMilli(1_700_000_000_123L), 2, TagSeal.NONE);
    private static final CreateCallBody.Sender SEALING = new CreateCallBody.Sender(HOOK, "primary",
            Instant.ofEpochMilli(1_700_000_000_123L), 2, TagSeal.of("tag-key"));

    /**
     * api-service refuses a client's tag key that this body writes over ({@link CarrierOptions#RESERVED_TAG_KEYS});
     * every key written here for a command as the Voice Gateway dialect makes it (its application as the flow, no
     * audio, no variables) must be on that list.
     */
    @Test
    void everyTagKeyThisBodyWritesOverIsOneTheApiRefuses() {
        CallCommand voiceGateway = new CallCommand(1, "req-1", "acc-1", "+4930123456", "+4915112345678", "app-1",
                null, null, 0, 3, 1, null, null, Map.of(), null, null, null, null, Map.of(), Instant.EPOCH);
        Map<String, Object> body = CreateCallBody.of(voiceGateway, PROPERTIES, SEALING);

        assertThat(tag(body)).containsKey(TagSeal.FIELD);
        assertThat(tag(body).keySet()).isSubsetOf(CarrierOptions.RESERVED_TAG_KEYS);
    }

    @Test
    void aSealedTagCarriesTheSealOfItsIdsAndAClientsSealIsNotKept() {
        Map<String, Object> theirs = Map.of("tag", Map.of("seal", "theirs", "crm", "x"));

        Map<String, Object> sealed = tag(CreateCallBody.of(command(null, "welcome.wav", theirs), PROPERTIES, SEALING));

        assertThat(sealed).containsEntry("crm", "x");
        assertThat(TagSeal.of("tag-key").verifies((String) sealed.get(TagSeal.FIELD), "req-1", 2, 2, "primary",
                "+4930123456")).isTrue();
        assertThat(tag(CreateCallBody.of(command(null, "welcome.wav", Map.of()), PROPERTIES, SENDER)))
                .as("not sealed without keys").doesNotContainKey(TagSeal.FIELD);
    }

    @Test
    void sendsNumbersWithoutPlusAndAudioThroughTheDefaultApplication() {
        Map<String, Object> body = CreateCallBody.of(command(null, "welcome.wav", Map.of()), PROPERTIES, SENDER);

        assertThat(body).containsEntry("from", "4930123456")
                .containsEntry("to", Map.of("type", "phone", "number", "4915112345678"))
                .containsEntry("application_sid", "dialer-audio-player")
                .containsEntry("call_status_hook", Map.of("url", HOOK, "method", "POST"))
                .containsEntry("timeout", 60L)
                .containsEntry("timeLimit", 3600L);
    }

    @Test
    void runsTheCommandsFlowWhenItNamesOne() {
        Map<String, Object> body = CreateCallBody.of(command("flow-7", null, Map.of()), PROPERTIES, SENDER);

        assertThat(body).containsEntry("application_sid", "flow-7");
        assertThat(tag(body)).containsEntry("flow_id", "flow-7").doesNotContainKey("audio");
    }

    @Test
    void tagCarriesCorrelationIdsAudioAndVariables() {
        Map<String, Object> body = CreateCallBody.of(command(null, "welcome.wav", Map.of()), PROPERTIES, SENDER);

        assertThat(tag(body)).containsEntry("request_id", "req-1")
                .containsEntry("attempt", 2)
                .containsEntry("account_id", "acc-1")
                .containsEntry("caller_id", "+4930123456")
                .containsEntry("audio", "welcome.wav")
                .containsEntry("variables", Map.of("otp", "123456"));
    }

    @Test
    void carrierOptionsWinOverDefaults() {
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("timeout", 20);
        options.put("timeLimit", 120);
        options.put("callerName", "Clinic");
        options.put("headers", Map.of("User-to-User", "abc"));
        options.put("amd", Map.of("actionHook", "https://example.com/amd"));
        options.put("application_sid", "custom-app");
        options.put("trunk", "carrier-b");

        Map<String, Object> body = CreateCallBody.of(command(null, "welcome.wav", options), PROPERTIES, SENDER);

        assertThat(body).containsEntry("timeout", 20L)
                .containsEntry("timeLimit", 120L)
                .containsEntry("callerName", "Clinic")
                .containsEntry("headers", Map.of("User-to-User", "abc"))
                .containsEntry("application_sid", "custom-app")
                .doesNotContainKey("trunk");
        assertThat(body.get("to")).isEqualTo(Map.of("type", "phone", "number", "4915112345678", "trunk", "carrier-b"));
    }

    /** A command written straight to Kafka by a producer that writes every field, null where not set. */
    @Test
    void nullCarrierOptionsLeaveTheDefaultsInPlace() {
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("timeout", null);
        options.put("timeLimit", null);
        options.put("headers", null);
        options.put("callerName", null);

        Map<String, Object> body = CreateCallBody.of(command(null, "welcome.wav", options), PROPERTIES, SENDER);

        assertThat(body).containsEntry("timeout", 60L)
                .containsEntry("timeLimit", 3600L)
                .doesNotContainKeys("headers", "callerName");
    }

    /**
     * The ring timeout and time limit go as the dialer counts on them for trunk slots and the watchdog: the carrier
     * never lets a call talk past the day the dialer reads a longer limit as, nor by a value the dialer does not take.
     */
    @Test
    void theRingTimeoutAndTimeLimitGoAsTheDialerReadsThem() {
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("timeout", "45");
        options.put("timeLimit", 172_800);

        Map<String, Object> body = CreateCallBody.of(command(null, "welcome.wav", options), PROPERTIES, SENDER);

        assertThat(body).containsEntry("timeout", 60L).containsEntry("timeLimit", 86_400L);

        options.put("timeout", 0);
        options.put("timeLimit", 90.5);

        assertThat(CreateCallBody.of(command(null, "welcome.wav", options), PROPERTIES, SENDER))
                .containsEntry("timeout", 60L).containsEntry("timeLimit", 90L);
    }

    @Test
    void answeringMachineDetectionReportsToOurEndpointAndKeepsItsOtherSettings() {
        Map<String, Object> amd = Map.of("actionHook", "https://example.com/amd", "thresholdWordCount", 5);
        CallCommand command = command(null, "welcome.wav", Map.of("amd", amd));

        Map<String, Object> body = CreateCallBody.of(command, PROPERTIES, SENDER);

        assertThat(body.get("amd")).isEqualTo(Map.of("thresholdWordCount", 5, "actionHook",
                Map.of("url", "http://127.0.0.1:8081/carrier/voice-gateway/amd", "method", "POST")));
        assertThat(command.carrierOptions().get("amd")).as("the command on record keeps the customer's hook")
                .isEqualTo(amd);
    }

    @Test
    void sendsNoAnsweringMachineDetectionUnlessAsked() {
        assertThat(CreateCallBody.of(command(null, "welcome.wav", Map.of()), PROPERTIES, SENDER))
                .doesNotContainKey("amd");
    }

    @Test
    void tagNamesTheCarrierWhenTheRequestWasSentAndWhichDialOfTheAttemptItIs() {
        Map<String, Object> body = CreateCallBody.of(command(null, "welcome.wav", Map.of()), PROPERTIES, SENDER);

        assertThat(tag(body)).containsEntry("carrier", "primary").containsEntry("sent_at", 1_700_000_000_123L)
                .containsEntry("dial", 2);
    }

    @Test
    void carrierOptionTagIsMergedButOurCorrelationIdsAlwaysWin() {
        Map<String, Object> options = Map.of("tag", Map.of("env", "prod", "request_id", "forged", "attempt", 9,
                "dial", 7));

        Map<String, Object> body = CreateCallBody.of(command(null, "welcome.wav", options), PROPERTIES, SENDER);

        assertThat(tag(body)).containsEntry("env", "prod")
                .containsEntry("request_id", "req-1")
                .containsEntry("attempt", 2)
                .containsEntry("dial", 2);
    }

    @Test
    void carrierOptionsCannotRedirectTheCallOrItsStatusHook() {
        Map<String, Object> options = Map.of(
                "to", Map.of("type", "phone", "number", "4999"),
                "from", "4988",
                "call_status_hook", "https://elsewhere.example.com/hook");

        Map<String, Object> body = CreateCallBody.of(command(null, "welcome.wav", options), PROPERTIES, SENDER);

        assertThat(body).containsEntry("from", "4930123456")
                .containsEntry("to", Map.of("type", "phone", "number", "4915112345678"))
                .containsEntry("call_status_hook", Map.of("url", HOOK, "method", "POST"));
    }

    @Test
    void aRouteOnAnotherAccountRunsItsOwnDefaultApplicationAndACommandsFlowAsItIs() {
        CarrierProperties backup = PROPERTIES.withEndpoint("http://vg-us", "AC2", null, null, "backup-player");
        CarrierProperties sameApplication = PROPERTIES.withEndpoint("http://vg-eu", "AC3", null, null, " ");

        assertThat(CreateCallBody.of(command(null, "welcome.wav", Map.of()), backup, SENDER))
                .containsEntry("application_sid", "backup-player");
        assertThat(CreateCallBody.of(command("flow-7", null, Map.of()), backup, SENDER))
                .containsEntry("application_sid", "flow-7");
        assertThat(CreateCallBody.of(command(null, "welcome.wav", Map.of()), sameApplication, SENDER))
                .as("none given: the default's").containsEntry("application_sid", "dialer-audio-player");
    }

    @Test
    void statusHookGoesAsNotifyUrlTooOnlyWhenAskedAndThenReplacesTheCommands() {
        CarrierProperties cognigy = PROPERTIES.withEndpoint("http://vg", null, null, true);
        Map<String, Object> options = Map.of("notifyUrl", "https://customer.example.com/notify");

        Map<String, Object> withNotifyUrl = CreateCallBody.of(command("flow-7", null, options), cognigy, SENDER);
        Map<String, Object> plain = CreateCallBody.of(command("flow-7", null, Map.of()), PROPERTIES, SENDER);

        assertThat(withNotifyUrl).containsEntry("notifyUrl", Map.of("url", HOOK, "method", "POST"))
                .containsEntry("call_status_hook", Map.of("url", HOOK, "method", "POST"))
                .containsEntry("application_sid", "flow-7");
        assertThat(plain).doesNotContainKey("notifyUrl")
                .containsEntry("call_status_hook", Map.of("url", HOOK, "method", "POST"));
    }

    @Test
    void leavesVariablesOutOfTheTagWhenTheCommandHasNone() {
        CallCommand command = new CallCommand(1, "req-2", "acc-1", "+4930123456", "+4915112345678", null, "a.wav",
                null, 0, 0, 1, null, null, null, null, null, null, null, null, Instant.EPOCH);

        assertThat(tag(CreateCallBody.of(command, PROPERTIES, SENDER))).doesNotContainKey("variables");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> tag(Map<String, Object> body) {
        return (Map<String, Object>) body.get("tag");
    }

    @Test
    void aSipTargetKeepsTheFieldsTheClientGaveButItsAddressIsAlwaysTheCommands() {
        Map<String, Object> given = Map.of("type", "phone", "sipUri", "sip:someone-else@evil.example.com",
                "auth", Map.of("username", "u", "password", "p"));

        Map<String, Object> body = CreateCallBody.of(command("sip:201@pbx.example.com", Map.of("to", given,
                "trunk", "carrier-a")), PROPERTIES, SENDER);

        assertThat(body).containsEntry("to", Map.of("type", "sip", "sipUri", "sip:201@pbx.example.com",
                "auth", Map.of("username", "u", "password", "p"), "trunk", "carrier-a"));
    }

    @Test
    void aPhoneTargetKeepsTheOtherFieldsTheClientGaveButItsTypeAndNumberAreTheCommands() {
        Map<String, Object> given = Map.of("type", "sip", "number", "+4915100000000",
                "confirmHook", "https://crm.example.com/confirm");

        Map<String, Object> body = CreateCallBody.of(command("+4915112345678", Map.of("to", given,
                "trunk", "carrier-a")), PROPERTIES, SENDER);

        assertThat(body).containsEntry("to", Map.of("type", "phone", "number", "4915112345678",
                "confirmHook", "https://crm.example.com/confirm", "trunk", "carrier-a"));
    }

    @Test
    void aUserTargetIsSentByName() {
        Map<String, Object> body = CreateCallBody.of(command("user:alice", Map.of()), PROPERTIES, SENDER);

        assertThat(body).containsEntry("to", Map.of("type", "user", "name", "alice"));
    }

    private static CallCommand command(String to, Map<String, Object> carrierOptions) {
        return new CallCommand(1, "req-1", "acc-1", "+4930123456", to, null, "a.wav", "spring", 0, 0, 2,
                null, null, Map.of(), null, null, null, null, carrierOptions, Instant.EPOCH);
    }

    private static CallCommand command(String flowId, String audio, Map<String, Object> carrierOptions) {
        return new CallCommand(1, "req-1", "acc-1", "+4930123456", "+4915112345678", flowId, audio, "spring", 0, 0, 2,
                null, null, Map.of("otp", "123456"), null, null, null, null, carrierOptions, Instant.EPOCH);
    }
}
