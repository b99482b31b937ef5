package dev.dialer.common.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.networknt.schema.InputFormat;
import com.networknt.schema.JsonSchema;
import dev.dialer.common.hook.HookUrls;
import dev.dialer.common.kafka.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ContractTest {

    private final CommandReader reader = new CommandReader();

    private static CallCommand command() {
        return new CallCommand(1, "req-1", "acct-1", "+918068281234", "+919876543215", "24", null, "obd_api_call",
                0, 0, 1, "wh-1", null, Map.of("otp", "123456"), null, null, null, null, null,
                Instant.parse("2026-01-01T00:00:00Z"));
    }

    @Test
    void commandRoundTripsThroughItsSchema() {
        byte[] json = Contract.toBytes(command());

        CallCommand read = reader.read(json);

        assertThat(read).isEqualTo(command());
        assertThat(new String(json, StandardCharsets.UTF_8))
                .contains("\"request_id\":\"req-1\"", "\"caller_id\":\"+918068281234\"", "\"flow_id\":\"24\"");
    }

    @Test
    void theApplicationsACommandCouldRunAreItsFlowAndWhateverItsCarrierOptionsChoose() {
        String other = CallCommand.OTHER_APPLICATION;
        assertThat(command().applications()).containsExactly("24");
        assertThat(command().withCarrierOptions(Map.of("application_sid", "app-9")).applications())
                .containsExactly("24", "app-9");
        assertThat(command().withCarrierOptions(Map.of("application_sid", " ")).applications()).as("blank")
                .containsExactly("24", other);
        assertThat(command().withCarrierOptions(Map.of("application_sid", 23)).applications()).as("not a string")
                .containsExactly("24", other);
        assertThat(command().withCarrierOptions(Map.of("call_hook", "https://x.example.com")).applications())
                .containsExactly("24", other);
        assertThat(command().withCarrierOptions(Map.of("app_json", "[]")).applications()).containsExactly("24", other);
        assertThat(reader.read("""
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234",
                 "to":"+919876543215","audio":"x","created_at":"2026-01-01T00:00:00Z"}""".getBytes(
                StandardCharsets.UTF_8)).applications()).as("audio: the dialer's own player").isEmpty();
        assertThat(new String(Contract.toBytes(command()), StandardCharsets.UTF_8)).doesNotContain("applications");
    }

    @Test
    void commandWithoutOptionalFieldsTakesDefaults() {
        String json = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234",
                 "to":"+919876543215","audio":"http://x/a.mp3","created_at":"2026-01-01T00:00:00Z"}""";

        CallCommand read = reader.read(json.getBytes(StandardCharsets.UTF_8));

        assertThat(read.attempt()).isEqualTo(1);
        assertThat(read.maxAttempts()).isEqualTo(CallCommand.DEFAULT_MAX_ATTEMPTS);
        assertThat(read.allowedAttempts()).isEqualTo(1);
        assertThat(read.variables()).isEmpty();
    }

    @Test
    void aCommandMayNameASipUriOrARegisteredUser() {
        for (String to : new String[] {"sip:alice@pbx.example.com;transport=tls", "sips:10.0.0.7:5061", "user:alice"}) {
            String json = """
                    {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234",
                     "to":"%s","audio":"x","created_at":"2026-01-01T00:00:00Z"}""".formatted(to);

            assertThat(reader.read(json.getBytes(StandardCharsets.UTF_8)).to()).isEqualTo(to);
        }
    }

    @Test
    void aDestinationThatIsNoneOfTheThreeFormsIsSchemaInvalid() {
        for (String to : new String[] {"919876543215", "sip:", "sip:alice@", "sip:a b@host", "user:", "tel:+4930123",
                "user:" + "a".repeat(129), "sip:" + "a".repeat(Destination.MAX_SIP_URI),
                "sip:alice:secret@pbx.example.com", "sip:alice@pbx.example.com?Subject=x", "sip:<alice@pbx.example.com>",
                "sip:alice@pbx.example.com,sip:bob@pbx.example.com", "sip:alic\u00e9@pbx.example.com"}) {
            String json = """
                    {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234",
                     "to":"%s","audio":"x","created_at":"2026-01-01T00:00:00Z"}""".formatted(to);

            assertRefused(json, ContractViolation.Code.SCHEMA_INVALID, to);
        }
    }

    @Test
    void aTimeThatIsNoRfc3339DateTimeAnAttemptBeyondAnIntOrACallerIdWithALineBreakIsSchemaInvalid() {
        String valid = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234",
                 "to":"+919876543215","audio":"x","created_at":"2026-01-01T00:00:00Z"%s}""";
        // Epoch milliseconds, read by Jackson as epoch seconds, were a valid_until some 55,000 years ahead.
        for (String extra : new String[] {",\"valid_until\":\"1767225600000\"", ",\"valid_until\":\"yesterday\"",
                ",\"valid_until\":\"2026-01-01T10:00:00\"", ",\"attempt\":2147483648"}) {
            assertRefused(valid.formatted(extra), ContractViolation.Code.SCHEMA_INVALID, extra);
        }
        String lineBreak = valid.formatted("").replace("+918068281234", "+918068281234\\n");
        assertRefused(lineBreak, ContractViolation.Code.SCHEMA_INVALID, null);
        assertThat(reader.read(valid.formatted(",\"valid_until\":\"2026-01-01T10:00:00.5+05:30\"")
                .getBytes(StandardCharsets.UTF_8)).validUntil()).isEqualTo(Instant.parse("2026-01-01T04:30:00.5Z"));
    }

    /** The dialer's own retries stop at the last allowed attempt; a later one from a producer is no attempt. */
    @Test
    void anAttemptPastTheOnesTheCommandAllowsIsSchemaInvalid() {
        String command = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234",
                 "to":"+919876543215","audio":"x","created_at":"2026-01-01T00:00:00Z"%s}""";
        for (String extra : new String[] {",\"attempt\":2", ",\"interval_minutes\":5,\"attempt\":4",
                ",\"interval_minutes\":5,\"max_attempts\":5,\"attempt\":6"}) {
            assertThatThrownBy(() -> reader.read(command.formatted(extra).getBytes(StandardCharsets.UTF_8)))
                    .as(extra)
                    .isInstanceOfSatisfying(ContractViolation.class, v -> {
                        assertThat(v.code()).isEqualTo(ContractViolation.Code.SCHEMA_INVALID);
                        assertThat(v.getMessage()).contains("$.attempt");
                    });
        }
        assertThat(reader.read(command.formatted(",\"interval_minutes\":5,\"attempt\":3")
                .getBytes(StandardCharsets.UTF_8)).attempt()).isEqualTo(3);
    }

    @Test
    void aCalleeNumberIsReadInCanonicalE164AsTheDncListAndTheCapKnowIt() {
        String command = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234","to":"%s",
                 "audio":"x","created_at":"2026-01-01T00:00:00Z"}""";

        // A national trunk 0 kept after the country code, as a producer may write it.
        assertThat(reader.read(command.formatted("+4402071234567").getBytes(StandardCharsets.UTF_8)).to())
                .isEqualTo("+442071234567");
        // Rome's numbers keep their 0: it is part of the number.
        assertThat(reader.read(command.formatted("+390612345678").getBytes(StandardCharsets.UTF_8)).to())
                .isEqualTo("+390612345678");
        // Not a valid number: kept as written.
        assertThat(reader.read(command.formatted("+19995550123").getBytes(StandardCharsets.UTF_8)).to())
                .isEqualTo("+19995550123");
    }

    @Test
    void aCallerIdIsReadInCanonicalE164AsTheAllowedListAndItsLaneKnowIt() {
        String command = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"%s","to":"+919876543215",
                 "audio":"x","created_at":"2026-01-01T00:00:00Z"}""";

        assertThat(reader.read(command.formatted("+4402071234567").getBytes(StandardCharsets.UTF_8)).callerId())
                .isEqualTo("+442071234567");
        assertThat(reader.read(command.formatted("+19995550123").getBytes(StandardCharsets.UTF_8)).callerId())
                .isEqualTo("+19995550123");
    }

    @Test
    void aCommandTooLargeToBePublishedAgainIsAViolation() {
        String command = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234","to":"+919876543215",
                 "audio":"x","created_at":"2026-01-01T00:00:00Z","variables":{"v":"%s"}}""";
        // The dialer writes the command again with its defaults (max_attempts, interval_minutes…): 69 bytes more.
        String fits = command.formatted("x".repeat(Topics.MAX_COMMAND_VALUE_BYTES - command.length() + 2 - 69));
        String over = command.formatted("x".repeat(Topics.MAX_COMMAND_VALUE_BYTES - command.length() + 3));
        String growsOver = command.formatted("x".repeat(Topics.MAX_COMMAND_VALUE_BYTES - command.length() + 2));

        assertThat(Contract.toBytes(reader.read(fits.getBytes(StandardCharsets.UTF_8))))
                .hasSize(Topics.MAX_COMMAND_VALUE_BYTES);
        assertRefused(over, ContractViolation.Code.TOO_LARGE, "over the limit as sent");
        assertThat(growsOver.getBytes(StandardCharsets.UTF_8)).hasSize(Topics.MAX_COMMAND_VALUE_BYTES);
        assertRefused(growsOver, ContractViolation.Code.TOO_LARGE, "over the limit as the dialer writes it again");
    }

    @Test
    void aDecimalInAFreeFormMemberIsReadAsADoubleWhateverItsExponent() {
        // As a BigDecimal, 1e1000000000 would throw in any arithmetic (a ring timeout's seconds) and 1e200000 would be
        // refused by PostgreSQL's jsonb (a parked command): a record that stalled its lane or partition for good.
        String command = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234","to":"+919876543215",
                 "audio":"x","created_at":"2026-01-01T00:00:00Z",
                 "carrier_options":{"timeout":1e1000000000,"x":1e200000,"y":10.50}}""";

        Map<String, Object> options = reader.read(command.getBytes(StandardCharsets.UTF_8)).carrierOptions();

        assertThat(options.get("timeout")).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(options.get("x")).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(options.get("y")).isEqualTo(10.5);
    }

    @Test
    void aCommandThatWouldGrowPastTheLimitAsTheDialerWritesItAgainIsTooLarge() {
        String command = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234","to":"+919876543215",
                 "audio":"x","created_at":"2026-01-01T00:00:00Z","carrier_options":{"x":[%s]}}""";
        String grows = command.formatted(String.join(",", Collections.nCopies(200_000, "1e9")));

        assertThat(grows.length()).isLessThan(Topics.MAX_COMMAND_VALUE_BYTES);
        assertThatThrownBy(() -> reader.read(grows.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(ContractViolation.class, v -> {
                    assertThat(v.code()).isEqualTo(ContractViolation.Code.TOO_LARGE);
                    assertThat(v.getMessage()).contains("as the dialer writes it again");
                });
    }

    @Test
    void aHookUrlLongerThanTheApiTakesIsSchemaInvalid() {
        String command = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234","to":"+919876543215",
                 "audio":"x","created_at":"2026-01-01T00:00:00Z","notify_url":{"url":"https://h.example/%s"}}""";
        String prefix = "https://h.example/";

        assertThat(reader.read(command.formatted("a".repeat(HookUrls.MAX_URL - prefix.length()))
                .getBytes(StandardCharsets.UTF_8)).notifyUrl().url()).hasSize(HookUrls.MAX_URL);
        assertRefused(command.formatted("a".repeat(HookUrls.MAX_URL - prefix.length() + 1)),
                ContractViolation.Code.SCHEMA_INVALID, null);
    }

    @Test
    void theAmdHookTravelsInTheCommandAndAnOlderCommandWithoutItReadsAsBefore() {
        CallCommand command = new CallCommand(1, "req-1", "acct-1", "+918068281234", "+919876543215", "24", null,
                null, 0, 0, 1, null, null, Map.of(), null, null, null, null, new Hook("https://h.example/amd", null),
                Map.of("amd", Map.of("thresholdWordCount", 5)), Instant.parse("2026-01-01T00:00:00Z"));
        byte[] json = Contract.toBytes(command);
        String older = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234","to":"+919876543215",
                 "audio":"x","created_at":"2026-01-01T00:00:00Z","carrier_options":{"amd":{}}}""";

        assertThat(new String(json, StandardCharsets.UTF_8))
                .contains("\"amd_hook\":{\"url\":\"https://h.example/amd\",\"method\":\"POST\"}");
        assertThat(reader.read(json)).isEqualTo(command);
        assertThat(reader.read(older.getBytes(StandardCharsets.UTF_8)).amdHook()).isNull();
        assertThat(command.withAttempt(2).amdHook()).isEqualTo(command.amdHook());
        assertThat(command.withTo("+919876543216").amdHook()).isEqualTo(command.amdHook());
        assertThat(command.withCallerId("+918068281235").amdHook()).isEqualTo(command.amdHook());
    }

    @Test
    void anAmdHookThatIsNoHttpUrlIsSchemaInvalid() {
        String command = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234","to":"+919876543215",
                 "audio":"x","created_at":"2026-01-01T00:00:00Z","amd_hook":{"url":"%s"}}""";

        assertRefused(command.formatted("wss://h.example/amd"), ContractViolation.Code.SCHEMA_INVALID, null);
    }

    @Test
    void anEventCarriesTheCommandsAmdHookAndMatchesItsSchema() {
        CallCommand command = new CallCommand(1, "req-1", "acct-1", "+918068281234", "+919876543215", "24", null,
                null, 0, 0, 1, null, null, Map.of(), null, null, null, null, new Hook("https://h.example/amd", "GET"),
                null, Instant.parse("2026-01-01T00:00:00Z"));
        CallEvent event = CallEvent.about(command).sequence(3).status(AttemptStatus.IN_PROGRESS)
                .previousStatus("in-progress").answeredBy("machine").build();
        String json = Contract.toJson(event);
        String older = json.replace(",\"amd_hook\":{\"url\":\"https://h.example/amd\",\"method\":\"GET\"}", "");

        assertThat(event.amdHook()).isEqualTo(new Hook("https://h.example/amd", "GET"));
        assertThat(ContractSchema.load("schemas/call-event.v1.json").validate(json, InputFormat.JSON)).isEmpty();
        assertThat(Contract.read(json.getBytes(StandardCharsets.UTF_8), CallEvent.class)).isEqualTo(event);
        assertThat(older).doesNotContain("amd_hook");
        assertThat(Contract.read(older.getBytes(StandardCharsets.UTF_8), CallEvent.class).amdHook()).isNull();
    }

    @Test
    void notJsonIsAViolation() {
        assertRefused("hello", ContractViolation.Code.NOT_JSON, null);
    }

    @Test
    void aValidCommandFollowedByMoreIsNotJson() {
        String json = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234",
                 "to":"+919876543215","audio":"x","created_at":"2026-01-01T00:00:00Z"}""";

        assertThat(reader.read(json.getBytes(StandardCharsets.UTF_8)).requestId()).isEqualTo("r");
        assertRefused(json + "garbage", ContractViolation.Code.NOT_JSON, "a word after it");
        assertRefused(json + "{\"version\":1}", ContractViolation.Code.NOT_JSON, "a second object after it");
        assertRefused(json + "]", ContractViolation.Code.NOT_JSON, "a stray bracket after it");
        String schemaInvalid = json.replace("\"audio\":\"x\",", "");
        assertRefused(schemaInvalid, ContractViolation.Code.SCHEMA_INVALID, "without audio or flow");
        assertRefused(schemaInvalid + "garbage", ContractViolation.Code.NOT_JSON, "a refused value with a word after");
        assertRefused("{\"version\":99}{}", ContractViolation.Code.NOT_JSON, "an unknown version with more after");
    }

    @Test
    void aRecordReadWithoutItsSchemaTellsJsonOfAnotherShapeFromWhatIsNotJson() {
        assertThat(readCode("[1,2]")).as("an array").isEqualTo(ContractViolation.Code.SCHEMA_INVALID);
        assertThat(readCode("{\"version\":\"one\"}")).as("a word for a number")
                .isEqualTo(ContractViolation.Code.SCHEMA_INVALID);
        assertThat(readCode("{\"version\":1")).as("cut short").isEqualTo(ContractViolation.Code.NOT_JSON);
        assertThat(readCode("{\"version\":1} {}")).as("more after it").isEqualTo(ContractViolation.Code.NOT_JSON);
        assertThat(readCode("")).as("nothing").isEqualTo(ContractViolation.Code.NOT_JSON);
    }

    private static ContractViolation.Code readCode(String json) {
        try {
            Contract.read(json.getBytes(StandardCharsets.UTF_8), CallEvent.class);
        } catch (ContractViolation violation) {
            return violation.code();
        }
        throw new AssertionError("read " + json);
    }

    @Test
    void notJsonNamesWhatTheParserFoundAndWhere() {
        assertThatThrownBy(() -> reader.read("{\"version\":1,}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(ContractViolation.class, violation -> {
                    assertThat(violation.code()).isEqualTo(ContractViolation.Code.NOT_JSON);
                    assertThat(violation.getMessage()).doesNotContain("Invalid input")
                            .doesNotContain("\n").doesNotContain("Source")
                            .startsWith("Unexpected character ('}'").endsWith("at [line: 1, column: 14]");
                });
    }

    @Test
    void missingFlowAndAudioIsSchemaInvalid() {
        String json = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234",
                 "to":"+919876543215","created_at":"2026-01-01T00:00:00Z"}""";

        assertRefused(json, ContractViolation.Code.SCHEMA_INVALID, null);
    }

    @Test
    void textHoldingNulIsSchemaInvalidAndNamesTheField() {
        // Valid JSON, which PostgreSQL could not store in the dispatcher's ledger.
        String json = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234",
                 "to":"+919876543215","audio":"x","variables":{"otp":"12\\u00003"},
                 "created_at":"2026-01-01T00:00:00Z"}""";

        assertThatThrownBy(() -> reader.read(json.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOfSatisfying(ContractViolation.class, v -> {
                    assertThat(v.code()).isEqualTo(ContractViolation.Code.SCHEMA_INVALID);
                    assertThat(v.getMessage()).startsWith("$.variables.otp: ").contains("U+0000");
                });
    }

    @Test
    void aValueHoldingNulThatIsNotJsonForAnotherReasonIsNotJsonAndOneNestedTooDeepIsInvalid() {
        String json = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234",
                 "to":"+919876543215","audio":"x","campaign":"spring\\u0000","created_at":"2026-01-01T00:00:00Z"}""";
        byte[] latin1 = json.replace("\"audio\":\"x\"", "\"audio\":\"caf\u00e9\"")
                .getBytes(StandardCharsets.ISO_8859_1);
        String deep = "[".repeat(600) + "]".repeat(600);

        assertRefused(json, ContractViolation.Code.SCHEMA_INVALID, "the NUL alone");
        assertRefused(json + " x", ContractViolation.Code.NOT_JSON, "a word after it");
        assertThatThrownBy(() -> reader.read(latin1)).as("not UTF-8")
                .isInstanceOfSatisfying(ContractViolation.class,
                        v -> assertThat(v.code()).isEqualTo(ContractViolation.Code.NOT_JSON));
        String nested = json.replace("\"audio\":\"x\"", "\"audio\":\"x\",\"carrier_options\":{\"x\":" + deep + "}");
        assertRefused(nested, ContractViolation.Code.SCHEMA_INVALID, "nested deeper than the reader reads");
        assertRefused(nested + " x", ContractViolation.Code.NOT_JSON, "nested too deep, and a word after it");
    }

    @Test
    void aNulInAFieldTheDialerIgnoresIsNoViolation() {
        String json = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234",
                 "to":"+919876543215","audio":"x","note":"a\\u0000b","created_at":"2026-01-01T00:00:00Z"}""";

        assertThat(reader.read(json.getBytes(StandardCharsets.UTF_8)).requestId()).isEqualTo("r");
    }

    @Test
    void anEscapedBackslashBeforeU0000IsNotNul() {
        // The text is a backslash followed by "u0000": storable as it is.
        String json = """
                {"version":1,"request_id":"r","account_id":"a","caller_id":"+918068281234",
                 "to":"+919876543215","audio":"x","variables":{"path":"C:\\\\u0000"},
                 "created_at":"2026-01-01T00:00:00Z"}""";

        assertThat(reader.read(json.getBytes(StandardCharsets.UTF_8)).variables())
                .containsEntry("path", "C:\\u0000");
    }

    @Test
    void unknownVersionIsNamed() {
        String json = """
                {"version":2,"request_id":"r","account_id":"a","caller_id":"+918068281234",
                 "to":"+919876543215","audio":"x","created_at":"2026-01-01T00:00:00Z"}""";

        assertRefused(json, ContractViolation.Code.UNKNOWN_VERSION, null);
    }

    @Test
    void aMissingVersionIsNamedAsAnUnknownOne() {
        // Named schema_invalid before, as if the record were a version 1 command written wrong.
        String json = """
                {"request_id":"r","account_id":"a","caller_id":"+918068281234",
                 "to":"+919876543215","audio":"x","created_at":"2026-01-01T00:00:00Z"}""";

        assertRefused(json, ContractViolation.Code.UNKNOWN_VERSION, null);
        assertRefused(json.replace("\"audio\":\"x\",", ""), ContractViolation.Code.UNKNOWN_VERSION,
                "with another field missing as well");
    }

    @Test
    void eventsMatchTheirSchemaAndNeverCarryVariables() {
        CallEvent event = CallEvent.about(command()).sequence(1).status(AttemptStatus.QUEUED).build();
        String json = Contract.toJson(event);
        JsonSchema schema = ContractSchema.load("schemas/call-event.v1.json");

        assertThat(schema.validate(json, InputFormat.JSON)).isEmpty();
        assertThat(json).doesNotContain("123456").doesNotContain("variables");
        assertThat(Contract.read(json.getBytes(StandardCharsets.UTF_8), CallEvent.class)).isEqualTo(event);
    }

    /**
     * What the carrier said is kept without a NUL character: the dispatcher's outbox keeps each event as {@code jsonb},
     * which refuses one, and the change the event reports is made in the same statement.
     */
    @Test
    void whatTheCarrierSaidIsKeptWithAReplacementCharacterForANul() {
        CallEvent event = CallEvent.about(command()).sequence(2).status(AttemptStatus.FAILED)
                .provider("fail\u0000ed", "sid\u00001").sip(486, "Busy\u0000Here")
                .error("carrier_error", "carrier answered HTTP 503: {\"msg\":\"busy\u0000\"}").build();
        String json = Contract.toJson(event);

        assertThat(event.providerStatus()).isEqualTo("fail\uFFFDed");
        assertThat(event.providerCallId()).isEqualTo("sid\uFFFD1");
        assertThat(event.sipReason()).isEqualTo("Busy\uFFFDHere");
        assertThat(event.error()).isEqualTo(new CallEvent.ErrorInfo("carrier_error",
                "carrier answered HTTP 503: {\"msg\":\"busy\uFFFD\"}"));
        assertThat(json).doesNotContain("\\u0000");
        assertThat(ContractSchema.load("schemas/call-event.v1.json").validate(json, InputFormat.JSON)).isEmpty();
        assertThat(Contract.read(json.getBytes(StandardCharsets.UTF_8), CallEvent.class)).isEqualTo(event);
    }

    @Test
    void everyEventSaysWhetherTheRequestWaitsToBeDialledAgain() {
        Instant due = Instant.parse("2026-01-01T00:05:00Z");
        CallEvent ringing = CallEvent.about(command()).sequence(3).status(AttemptStatus.RINGING).build();
        CallEvent busy = CallEvent.about(command()).sequence(4).status(AttemptStatus.BUSY).retry(true, due).build();
        CallEvent last = CallEvent.about(command()).type(EventType.FINAL).sequence(5).status(FinalStatus.EXHAUSTED)
                .build();
        JsonSchema schema = ContractSchema.load("schemas/call-event.v1.json");

        assertThat(Contract.toJson(ringing)).contains("\"will_retry\":false").doesNotContain("next_attempt_at");
        assertThat(Contract.toJson(last)).contains("\"will_retry\":false");
        assertThat(Contract.toJson(busy)).contains("\"will_retry\":true",
                "\"next_attempt_at\":\"2026-01-01T00:05:00Z\"");
        assertThat(List.of(ringing, busy, last)).allSatisfy(event ->
                assertThat(schema.validate(Contract.toJson(event), InputFormat.JSON)).isEmpty());
    }

    @Test
    void finalEventCarriesTheFinalStatus() {
        CallEvent event = CallEvent.about(command()).type(EventType.FINAL).sequence(6)
                .status(FinalStatus.ANSWERED).build();

        assertThat(Contract.toJson(event)).contains("\"event_type\":\"call.final\"", "\"status\":\"answered\"",
                "\"attempt\":{\"number\":1,\"max\":1}");
    }

    @Test
    void cancelRejectedEventMatchesTheSchemaWithTheStatusItFound() {
        CallEvent event = CallEvent.about(command()).type(EventType.CANCEL_REJECTED).sequence(7)
                .status(FinalStatus.ANSWERED).reason("too_late").build();
        String json = Contract.toJson(event);
        JsonSchema schema = ContractSchema.load("schemas/call-event.v1.json");

        assertThat(schema.validate(json, InputFormat.JSON)).isEmpty();
        assertThat(json).contains("\"event_type\":\"call.cancel_rejected\"", "\"reason\":\"too_late\"");
        assertThat(Contract.read(json.getBytes(StandardCharsets.UTF_8), CallEvent.class).eventType())
                .isEqualTo(EventType.CANCEL_REJECTED);
    }

    @Test
    void everyEventTypeIsInTheEventAndSubscriptionSchemas() throws Exception {
        String events = resource("schemas/call-event.v1.json");
        String subscriptions = resource("schemas/subscription-config.v1.json");

        for (EventType type : EventType.values()) {
            assertThat(events).contains("\"" + type.wire() + "\"");
            assertThat(subscriptions).contains("\"" + type.wire() + "\"");
        }
    }

    private static String resource(String path) throws java.io.IOException {
        try (var in = ContractTest.class.getClassLoader().getResourceAsStream(path)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void webhookConfigMatchesItsSchema() {
        WebhookConfig config = new WebhookConfig("wh-1", "acct-1", "https://example.com/hook", null,
                "whsec_abc", true, Instant.now());
        JsonSchema schema = ContractSchema.load("schemas/webhook-config.v1.json");

        assertThat(schema.validate(Contract.toJson(config), InputFormat.JSON)).isEmpty();
    }

    /** Reading {@code json} is refused with {@code code} ({@code as} describes the case, null when one is enough). */
    private void assertRefused(String json, ContractViolation.Code code, String as) {
        assertThatThrownBy(() -> reader.read(json.getBytes(StandardCharsets.UTF_8)))
                .as(as)
                .isInstanceOfSatisfying(ContractViolation.class, v -> assertThat(v.code()).isEqualTo(code));
    }
}
