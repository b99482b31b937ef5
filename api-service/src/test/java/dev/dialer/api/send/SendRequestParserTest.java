package dev.dialer.api.send;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import dev.dialer.api.problem.ApiProblem;
import dev.dialer.api.problem.FieldProblem;
import dev.dialer.api.problem.Problems;
import dev.dialer.common.phone.PhoneNumbers;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SendRequestParserTest {

    private static final String IN = "IN";
    private static final int MAX_RECIPIENTS = 1000;

    @Test
    void readsTheDocumentedAudioIdExample() {
        SendRequest request = parse(DocumentedBodies.AUDIO_ID);

        assertThat(request.callerId()).isEqualTo("+918068281234");
        assertThat(request.recipients()).extracting(SendRequest.Recipient::e164).containsExactly("+919876543215");
        assertThat(request.audio()).isEqualTo("39888925-718e-43bb-a8b1-d4a3a1b2c");
        assertThat(request.flowId()).isNull();
        assertThat(request.campaign()).isEqualTo("obd_api_call");
        assertThat(request.intervalMinutes()).isZero();
        assertThat(request.variables()).isEmpty();
    }

    @Test
    void readsTheDocumentedAudioUrlExample() {
        SendRequest request = parse(DocumentedBodies.AUDIO_URL);

        assertThat(request.audio()).isEqualTo("http://youraudiofilelocation.mp3");
        assertThat(request.flowId()).isNull();
    }

    @Test
    void readsTheDocumentedFlowIdExample() {
        SendRequest request = parse(DocumentedBodies.FLOW_ID);

        assertThat(request.flowId()).isEqualTo("23");
        assertThat(request.audio()).isNull();
        assertThat(request.campaign()).isEqualTo("obd_api_call");
    }

    @Test
    void readsTheDocumentedFlatVariables() {
        SendRequest request = parse(DocumentedBodies.FLOW_ID_WITH_VARIABLES);

        assertThat(request.flowId()).isEqualTo("24");
        assertThat(request.variables()).containsExactlyInAnyOrderEntriesOf(Map.of("Name", "YourName", "otp", "123456"));
    }

    @Test
    void reportsTheDocumentedPlaceholderNumbersAsInvalidFields() {
        assertThat(fieldsOf(DocumentedBodies.AUDIO_ID_VERBATIM)).containsExactly("bridge", "to");
    }

    @Test
    void readsAFormEncodedBody() {
        SendRequest request = parse("bridge=918068281234&to=%2B919876543215&flow_id=23"
                + "&interval=15&name=spring+sale&variables%5BName%5D=Your+Name&variables[otp]=42&foreign_id=crm-1");

        assertThat(request.callerId()).isEqualTo("+918068281234");
        assertThat(request.recipients()).extracting(SendRequest.Recipient::e164).containsExactly("+919876543215");
        assertThat(request.intervalMinutes()).isEqualTo(15);
        assertThat(request.campaign()).isEqualTo("spring sale");
        assertThat(request.variables()).containsExactlyInAnyOrderEntriesOf(Map.of("Name", "Your Name", "otp", "42"));
        assertThat(request.foreignId()).isEqualTo("crm-1");
    }

    @Test
    void refusesVariablesLargerThanTheCommandMayCarryCountingTheirJsonEscapes() {
        // 3,000 raw control characters in a form: 3,000 bytes of body, 18,000 of JSON in every recipient's command.
        String controls = "\u0001".repeat(3000);
        assertThat(problemOf("bridge=918068281234&to=919876543215&flow_id=23&variables[x]=" + controls).errors())
                .containsExactly(new FieldProblem("variables", "are too large: at most 16384 bytes as JSON, where a "
                        + "control character takes six"));
        assertThat(fieldsOf(body("\"variables\":{\"a\":\"" + "x".repeat(9000) + "\",\"b\":\"" + "x".repeat(9000)
                + "\"}"))).as("counted together").containsExactly("variables");

        String fits = "x".repeat(SendRequestParser.MAX_VARIABLES_BYTES - "{\"x\":\"\"}".length());
        assertThat(parse("bridge=918068281234&to=919876543215&flow_id=23&variables[x]=" + fits).variables())
                .containsExactly(Map.entry("x", fits));
    }

    @Test
    void percentDecodesAFormsValuesInTheCharsetOfItsContentType() {
        String body = "bridge=918068281234&to=919876543215&flow_id=1&foreign_id=Caf%E9&name=%80+off"
                + "&variables%5BCaf%E9%5D=cr%E8me";

        SendRequest latin1 = SendRequestParser.parse(body, StandardCharsets.ISO_8859_1, IN, MAX_RECIPIENTS);
        SendRequest windows = SendRequestParser.parse(body, Charset.forName("windows-1252"), IN, MAX_RECIPIENTS);
        SendRequest utf8 = parse("bridge=918068281234&to=919876543215&flow_id=1&foreign_id=Caf%C3%A9");

        assertThat(latin1.foreignId()).isEqualTo("Café");
        assertThat(latin1.campaign()).isEqualTo("\u0080 off");
        assertThat(latin1.variables()).containsExactly(Map.entry("Café", "crème"));
        assertThat(windows.campaign()).isEqualTo("€ off");
        assertThat(utf8.foreignId()).isEqualTo("Café");
    }

    @Test
    void refusesAFormValueWhosePercentEncodedBytesAreNotTextInTheCharsetNamingIt() {
        // Caf%E9 is Latin-1: as UTF-8 it once became "Caf\uFFFD", and Caf%E8 (another reference) the same one.
        ApiProblem problem = problemOf("bridge=918068281234&to=919876543215&flow_id=1&foreign_id=Caf%E9"
                + "&variables[otp]=%FF1");

        String notUtf8 = "is not valid UTF-8 once percent-decoded (the charset of the Content-Type, UTF-8 when it "
                + "names none)";
        assertThat(problem.errors()).containsExactly(new FieldProblem("foreign_id", notUtf8),
                new FieldProblem("variables[otp]", notUtf8));
        assertThat(fieldsOf("bridge=918068281234&to=9198765%C3215&flow_id=1")).containsExactly("to");
        // A name that cannot be read names no field: the form is malformed.
        assertThat(problemOf("bridge=918068281234&to=919876543215&flow_id=1&Caf%E9=1").getBody().getType())
                .isEqualTo(Problems.MALFORMED_REQUEST);
    }

    @Test
    void aLiteralPlusInAFormsNumbersIsAPlusSignNotASpace() {
        // curl -d 'to=+6598765432': a Singapore number; 6598765432 alone is an Indian mobile in region IN too.
        SendRequest request = parse("bridge=+918068281234&to=+6598765432,+919876543215&to[]=+14155550123"
                + "&audio=greeting&name=spring+sale");

        assertThat(request.callerId()).isEqualTo("+918068281234");
        assertThat(request.recipients()).extracting(SendRequest.Recipient::e164)
                .containsExactly("+6598765432", "+919876543215", "+14155550123");
        assertThat(request.campaign()).as("elsewhere '+' is still a space").isEqualTo("spring sale");
    }

    @Test
    void aPlusInsideAFormsNumberIsTheSpaceAFormEncoderMadeOfIt() {
        // What a browser or an HTTP library's form encoder sends for "+91 98765 43215" and "+65 9876 5432".
        SendRequest request = parse("bridge=%2B91+80682+81234&to=%2B91+98765+43215%2C%2B65+9876+5432"
                + "&to=+1+415+555+0123&audio=greeting");

        assertThat(request.callerId()).isEqualTo("+918068281234");
        assertThat(request.recipients()).extracting(SendRequest.Recipient::e164)
                .containsExactly("+919876543215", "+6598765432", "+14155550123");
    }

    @Test
    void aPlusAfterACommaAndSpacesStillBeginsANumber() {
        // curl -d 'to=+919876543215, +6598765432': without its '+', 6598765432 is an Indian mobile in region IN too.
        SendRequest request = parse("bridge=+918068281234&to=+919876543215, +6598765432,%20+14155550123"
                + "%2C%20+442071234567&audio=greeting");

        assertThat(request.recipients()).extracting(SendRequest.Recipient::e164)
                .containsExactly("+919876543215", "+6598765432", "+14155550123", "+442071234567");
    }

    @Test
    void aPlusStraightAfterAnEncodedCommaIsTheSpaceAnEncoderWroteThere() {
        // URLSearchParams, http_build_query, urlencode: "919876543215, 9876543216" and "+919876543215, +6598765432".
        SendRequest local = parse("bridge=918068281234&to=919876543215%2C+9876543216&audio=greeting");
        SendRequest international = parse(
                "bridge=918068281234&to=%2B919876543215%2C+%2B6598765432%2C++%2B14155550123&audio=greeting");

        assertThat(local.recipients()).extracting(SendRequest.Recipient::e164)
                .containsExactly("+919876543215", "+919876543216");
        assertThat(international.recipients()).extracting(SendRequest.Recipient::e164)
                .containsExactly("+919876543215", "+6598765432", "+14155550123");
    }

    @Test
    void aPlusAfterAnEncodedCommaBeginsANumberWhenTheValueWroteItsFirstPlusLiterally() {
        // Written by hand: the writer does not encode plus signs, so the '+' after the encoded comma is one too.
        SendRequest request = parse("bridge=918068281234&to=+919876543215%2C+6598765432&audio=greeting");

        assertThat(request.recipients()).extracting(SendRequest.Recipient::e164)
                .containsExactly("+919876543215", "+6598765432");
    }

    @Test
    void aNumberAfterAnEncodedCommaAndSpaceIsReadInTheAccountsRegion() {
        // "919876543215, 6598765432" as an encoder writes it: 6598765432 is no '+65' number here, and in region IN
        // it is both an Indian mobile and a Singapore number written without its '+', so it is refused, not guessed.
        SendRequest request = parse("bridge=918068281234&to=919876543215%2C+6598765432&audio=greeting");

        assertThat(request.recipients()).extracting(SendRequest.Recipient::e164).containsExactly("+919876543215", null);
        assertThat(request.recipients().get(1).field()).isEqualTo("to[1]");
        assertThat(request.recipients().get(1).error()).isNotNull();
    }

    @Test
    void onlyALeadingByteOrderMarkIsDropped() {
        SendRequest request = parse("\uFEFF{\"bridge\":\"918068281234\",\"to\":\"919876543215\","
                + "\"audio\":\"greeting\",\"foreign_id\":\"crm-1\uFEFF\"}");

        assertThat(request.recipients()).hasSize(1);
        assertThat(request.foreignId()).isEqualTo("crm-1\uFEFF");
    }

    @Test
    void readsRepeatedToFieldsOfAFormAsOneList() {
        SendRequest request = parse(
                "bridge=918068281234&to=919876543215&to[]=919876543216&audio=greeting");

        assertThat(request.recipients()).extracting(SendRequest.Recipient::e164)
                .containsExactly("+919876543215", "+919876543216");
    }

    @Test
    void readsAFormsIndexedToFieldsAsPhpWritesAListAndNoOtherBracketedName() {
        // http_build_query(['to' => [...]]) writes to[0]=…&to[1]=…, its brackets percent-encoded.
        SendRequest request = parse("bridge=918068281234&to%5B0%5D=919876543215&to[1]=919876543216"
                + "&audio=greeting");

        assertThat(request.recipients()).extracting(SendRequest.Recipient::e164)
                .containsExactly("+919876543215", "+919876543216");
        ApiProblem problem = catchThrowableOfType(ApiProblem.class,
                () -> parse("bridge=918068281234&to[a]=919876543215&audio=greeting"));
        assertThat(problem.errors()).extracting(FieldProblem::field).containsExactly("to[a]");
    }

    @Test
    void listsTheFirstInvalidFieldsAndCountsTheRestButEveryRecipientOfAFullSend() {
        // Some 13 bytes of body a problem: a send's 256 KB can name some 20,000.
        StringBuilder body = new StringBuilder("{\"bridge\":\"918068281234\",\"to\":\"919876543215\",\"audio\":\"a\","
                + "\"variables\":{");
        for (int i = 0; i < 1500; i++) {
            body.append(i == 0 ? "" : ",").append("\"v").append(i).append("\":{}");
        }
        ApiProblem problem = problemOf(body.append("}}").toString());

        assertThat(problem.errors()).hasSize(Problems.MAX_LISTED_ERRORS);
        assertThat(problem.errors().get(0)).isEqualTo(new FieldProblem("variables[v0]", "must be a string"));
        assertThat(problem.errors().get(1099).field()).isEqualTo("variables[v1099]");
        assertThat(problem.getBody().getProperties()).containsEntry(Problems.ERRORS_OMITTED, 400);
        assertThat(problem.getBody().getDetail()).isEqualTo("1500 fields are invalid");
        assertThat(problemOf("{\"bridge\":\"918068281234\",\"to\":\"919876543215\",\"audio\":\"a\","
                + "\"variables\":{\"v\":{}}}").getBody().getProperties())
                .as("nothing omitted").doesNotContainKey(Problems.ERRORS_OMITTED);

        // A send of as many recipients as allowed, none valid, and no flow_id or audio: every one of them is named.
        String numbers = String.join(",", java.util.Collections.nCopies(MAX_RECIPIENTS, "\"12\""));
        ApiProblem full = problemOf("{\"bridge\":\"918068281234\",\"to\":[" + numbers + "]}");
        assertThat(full.errors()).hasSize(MAX_RECIPIENTS + 2)
                .extracting(FieldProblem::field).contains("flow_id", "to", "to[0]", "to[999]");
        assertThat(full.getBody().getProperties()).doesNotContainKey(Problems.ERRORS_OMITTED);
    }

    @Test
    void readsNationalNumbersInTheAccountsRegion() {
        SendRequest request = parse("bridge=08068281234&to=9876543215&audio=a");

        assertThat(request.callerId()).isEqualTo("+918068281234");
        assertThat(request.recipients().get(0).e164()).isEqualTo("+919876543215");
    }

    @Test
    void refusesDigitsThatAreANumberOfTheRegionAndAnotherCountrysNamingBothReadings() {
        // The API document writes numbers with their country code and no '+': in region DE, 919876543215 is also a
        // German one.
        SendRequest request = SendRequestParser.parse("""
                {"bridge":"+4930123456","to":"919876543215,+919876543216,4930123457","flow_id":"1"}""", "DE",
                MAX_RECIPIENTS);

        assertThat(request.recipients()).extracting(SendRequest.Recipient::e164)
                .containsExactly(null, "+919876543216", "+4930123457");
        assertThat(request.recipients().get(0).error()).isEqualTo(
                "is ambiguous: +49919876543215 (DE) or +919876543215; write it with + and its country code");
        // In region IN a Singapore number without its '+' is an Indian mobile number too.
        assertThat(problemOf("{\"bridge\":\"918068281234\",\"to\":\"6598765432\",\"flow_id\":\"1\"}").errors())
                .containsExactly(new FieldProblem("to",
                        "is ambiguous: +916598765432 (IN) or +6598765432; write it with + and its country code"));
    }

    @Test
    void splitsACommaSeparatedListIntoOneRecipientEach() {
        SendRequest request = parse("""
                {"bridge":"918068281234","to":"919876543215, 919876543216 ,919876543217","flow_id":"1"}""");

        assertThat(request.recipients()).extracting(SendRequest.Recipient::field)
                .containsExactly("to[0]", "to[1]", "to[2]");
        assertThat(request.recipients()).extracting(SendRequest.Recipient::e164)
                .containsExactly("+919876543215", "+919876543216", "+919876543217");
    }

    @Test
    void keepsInvalidRecipientsOfAListWithTheirReasonWithoutFailingTheValidOnes() {
        SendRequest request = parse("""
                {"bridge":"918068281234","to":"919876543215,12345,919876543216","flow_id":"1"}""");

        assertThat(request.recipients()).extracting(SendRequest.Recipient::valid).containsExactly(true, false, true);
        SendRequest.Recipient rejected = request.recipients().get(1);
        assertThat(rejected.field()).isEqualTo("to[1]");
        assertThat(rejected.raw()).isEqualTo("12345");
        assertThat(rejected.error()).isNotBlank();
    }

    @Test
    void acceptsRecipientArraysNumbersAndAVariablesObject() {
        SendRequest request = parse("""
                {"bridge":918068281234,"to":["919876543215",919876543216],"flow_id":23,"interval":"5",
                 "variables":{"Name":"A","count":3},"variables[otp]":"9"}""");

        assertThat(request.callerId()).isEqualTo("+918068281234");
        assertThat(request.recipients()).extracting(SendRequest.Recipient::e164)
                .containsExactly("+919876543215", "+919876543216");
        assertThat(request.flowId()).isEqualTo("23");
        assertThat(request.intervalMinutes()).isEqualTo(5);
        assertThat(request.variables()).containsExactlyInAnyOrderEntriesOf(Map.of("Name", "A", "count", "3", "otp", "9"));
    }

    @Test
    void acceptsEveryDocumentedIntervalAsTextOrNumber() {
        for (int minutes : List.of(0, 5, 15, 30, 45, 60)) {
            assertThat(parse(body("\"interval\":" + minutes)).intervalMinutes())
                    .isEqualTo(minutes);
            assertThat(parse(body("\"interval\":\"" + minutes + "\"")).intervalMinutes())
                    .isEqualTo(minutes);
        }
    }

    @Test
    void readsAnEmptyVariablesArrayAsNoVariables() {
        // PHP's json_encode writes an empty array as [] whatever it was meant to hold; the API document calls
        // variables an "Array".
        assertThat(parse(body("\"variables\":[]")).variables()).isEmpty();
        assertThat(parse(body("\"variables\":[],\"variables[otp]\":\"9\"")).variables())
                .containsExactly(Map.entry("otp", "9"));
        assertThat(fieldsOf(body("\"variables\":[\"a\"]"))).containsExactly("variables");
    }

    @Test
    void acceptsWholeNumbersWrittenWithAZeroFractionAndRefusesAnyOtherFraction() {
        SendRequest request = parse(body("\"interval\":15.0,\"max_attempts\":5.00,\"priority\":7.0"));

        assertThat(request.intervalMinutes()).isEqualTo(15);
        assertThat(request.maxAttempts()).isEqualTo(5);
        assertThat(request.priority()).isEqualTo(7);
        assertThat(parse("bridge=918068281234&to=919876543215&flow_id=1&interval=30.0&priority=0.0")
                .intervalMinutes()).isEqualTo(30);
        assertThat(fieldsOf(body("\"interval\":15.5,\"max_attempts\":2.5,\"priority\":\"7.01\"")))
                .containsExactly("interval", "max_attempts", "priority");
        assertThat(fieldsOf(body("\"max_attempts\":1e400"))).containsExactly("max_attempts");
        assertThat(fieldsOf(body("\"priority\":\"1e999999999\""))).containsExactly("priority");
    }

    @Test
    void readsPhoneNumbersWrittenAsFloatsAsTheirDigitsAndRefusesAnyOtherFraction() {
        // A float column written out by pandas or a JavaScript encoder: the digits, never the text "….0".
        SendRequest request = parse("""
                {"bridge":918068281234.0,"flow_id":"1","to":[919876543215.00,{"number":9.19876543216E11},
                 919876543217.5,{"number":9.1e999999999},"919876543218"]}""");

        assertThat(request.callerId()).isEqualTo("+918068281234");
        assertThat(request.recipients()).extracting(SendRequest.Recipient::field, SendRequest.Recipient::e164,
                        SendRequest.Recipient::error)
                .containsExactly(tuple("to[0]", "+919876543215", null),
                        tuple("to[1].number", "+919876543216", null),
                        tuple("to[2]", null, SendRequestParser.MISTYPED_NUMBER),
                        tuple("to[3].number", null, SendRequestParser.MISTYPED_NUMBER),
                        tuple("to[4]", "+919876543218", null));
        assertThat(parse("{\"bridge\":\"918068281234\",\"to\":919876543219.0,\"flow_id\":\"1\"}").recipients())
                .extracting(SendRequest.Recipient::e164).containsExactly("+919876543219");
        assertThat(problemOf("{\"bridge\":918068281234.5,\"to\":919876543215.25,\"flow_id\":\"1\"}").errors())
                .containsExactly(new FieldProblem("bridge", SendRequestParser.MISTYPED_NUMBER),
                        new FieldProblem("to", SendRequestParser.MISTYPED_NUMBER));
    }

    @Test
    void namesAMissingBridge() {
        assertThat(fieldsOf("{\"to\":\"919876543215\",\"flow_id\":\"1\"}")).containsExactly("bridge");
    }

    @Test
    void namesAValueOfAnotherJsonTypeAsNeitherAStringNorANumber() {
        assertThat(problemOf(body("\"interval\":true")).errors())
                .containsExactly(new FieldProblem("interval", "must be a string or a number"));
        assertThat(problemOf(body("\"name\":{\"first\":\"spring\"}")).errors())
                .containsExactly(new FieldProblem("name", "must be a string or a number"));
    }

    @Test
    void namesANestedFormRecipientRatherThanAMissingTo() {
        // Ignored before, so the request was refused as "to is required" for a field it did hold.
        ApiProblem problem = problemOf("bridge=918068281234&to[0][number]=919876543215&to[1][number]=919876543216"
                + "&flow_id=1");

        assertThat(problem.errors()).extracting(FieldProblem::field)
                .containsExactly("to[0][number]", "to[1][number]");
        assertThat(problem.errors().get(0).message()).startsWith("is not a recipient: write to, to[] or to[0]");
    }

    @Test
    void namesAJsonMemberWrittenAsAFormsRecipientRatherThanDropIt() {
        // Read as an unknown member before, so its number was never called while the request was answered 200.
        ApiProblem problem = problemOf("{\"bridge\":\"918068281234\",\"to\":\"919876543215\","
                + "\"to[1]\":\"919876543216\",\"to[]\":\"919876543217\",\"to[2][number]\":\"919876543218\","
                + "\"flow_id\":\"23\"}");

        assertThat(problem.errors()).extracting(FieldProblem::field)
                .containsExactlyInAnyOrder("to[1]", "to[]", "to[2][number]");
        assertThat(problem.errors().get(0).message()).contains("in JSON give them as the \"to\" array");
        assertThat(fieldsOf("{\"bridge\":\"918068281234\",\"to[0]\":\"919876543215\",\"flow_id\":\"1\"}"))
                .containsExactlyInAnyOrder("to", "to[0]");
    }

    @Test
    void namesAMissingTo() {
        assertThat(fieldsOf("{\"bridge\":\"918068281234\",\"flow_id\":\"1\"}")).containsExactly("to");
    }

    @Test
    void namesFlowIdWhenNeitherFlowIdNorAudioIsGiven() {
        assertThat(fieldsOf("{\"bridge\":\"918068281234\",\"to\":\"919876543215\"}")).containsExactly("flow_id");
    }

    @Test
    void refusesAnIntervalOutsideTheDocumentedValues() {
        ApiProblem problem = problemOf(body("\"interval\":7"));

        assertThat(problem.errors()).containsExactly(
                new FieldProblem("interval", "must be one of 0, 5, 15, 30, 45, 60 (minutes)"));
        assertThat(fieldsOf(body("\"interval\":\"often\""))).containsExactly("interval");
    }

    @Test
    void refusesAValidUntilPastTheYear9999NamingIt() {
        // Java reads such instants, but a command's date-time is RFC 3339's, of four-digit years: the dispatcher
        // would refuse the command after the API had answered 200.
        for (String late : List.of("+10000-01-01T00:00:00Z", "9999-12-31T23:30:00-01:00",
                "+999999999-12-31T23:59:59.999999999-18:00")) {
            assertThat(problemOf(body("\"valid_until\":\"" + late + "\"")).errors()).as(late).containsExactly(
                    new FieldProblem("valid_until", "must be no later than 9999-12-31T23:59:59.999999999Z"));
        }
        assertThat(parse(body("\"valid_until\":\"9999-12-31T23:59:59.999999999Z\"")).validUntil())
                .isEqualTo(Instant.parse("9999-12-31T23:59:59.999999999Z"));
    }

    @Test
    void refusesAnAudioUrlWithAnotherScheme() {
        assertThat(fieldsOf("{\"bridge\":\"918068281234\",\"to\":\"919876543215\",\"audio\":\"ftp://x\"}"))
                .containsExactly("audio");
        assertThat(fieldsOf("{\"bridge\":\"918068281234\",\"to\":\"919876543215\",\"audio\":\"file:/etc/passwd\"}"))
                .containsExactly("audio");
    }

    @Test
    void acceptsHttpsAudioUrlsAndSoundIds() {
        assertThat(SendRequestParser.audioProblem("https://cdn.example.com/a.mp3?x=1")).isNull();
        assertThat(SendRequestParser.audioProblem("HTTP://cdn.example.com/a.mp3")).isNull();
        assertThat(SendRequestParser.audioProblem("39888925-718e-43bb-a8b1-d4a3XXXXX")).isNull();
        assertThat(SendRequestParser.audioProblem("www.example.com/a.mp3")).isNotNull();
        assertThat(SendRequestParser.audioProblem("http:///nohost")).isNotNull();
        assertThat(SendRequestParser.audioProblem("https://user@:8080/a.mp3")).isNotNull();
        assertThat(SendRequestParser.audioProblem("https://my_bucket.s3.amazonaws.com/a.mp3")).isNull();
        assertThat(SendRequestParser.audioProblem("https://bücher.example/a.mp3")).isNull();
        assertThat(SendRequestParser.audioProblem("https://[2001:db8::1]:8443/a.mp3")).isNull();
    }

    @Test
    void namesAnInvalidSingleNumberAsTo() {
        ApiProblem problem = problemOf("{\"bridge\":\"918068281234\",\"to\":\"12345\",\"flow_id\":\"1\"}");

        assertThat(problem.errors()).extracting(FieldProblem::field).containsExactly("to");
        assertThat(problem.getBody().getType()).isEqualTo(Problems.VALIDATION);
    }

    @Test
    void namesAnInvalidBridge() {
        assertThat(fieldsOf("{\"bridge\":\"abc\",\"to\":\"919876543215\",\"flow_id\":\"1\"}"))
                .containsExactly("bridge");
    }

    @Test
    void refusesABridgeLongerThanAnyWrittenNumberBeforeReadingIt() {
        assertThat(parse(withBridge(spacedOut(64))).callerId()).isEqualTo("+918068281234");
        assertThat(problemOf(withBridge(spacedOut(65))).errors())
                .containsExactly(new FieldProblem("bridge", "must be at most 64 characters"));
        assertThat(problemOf("bridge=" + "9".repeat(100_000) + "&to=919876543215&flow_id=1").errors())
                .containsExactly(new FieldProblem("bridge", "must be at most 64 characters"));
    }

    @Test
    void namesEveryRecipientAndToWhenNoRecipientIsValid() {
        assertThat(fieldsOf("{\"bridge\":\"918068281234\",\"to\":\"12345,,abc\",\"flow_id\":\"1\"}"))
                .containsExactly("to", "to[0]", "to[1]", "to[2]");
    }

    @Test
    void reportsRequestErrorsTogetherWithRejectedRecipients() {
        assertThat(fieldsOf("{\"to\":\"919876543215,1\",\"flow_id\":\"1\",\"interval\":7}"))
                .containsExactly("bridge", "interval", "to[1]");
    }

    @Test
    void refusesANestedFlatVariableNamingItRatherThanDroppingIt() {
        assertThat(problemOf("bridge=918068281234&to=919876543216&flow_id=24&variables[Name][first]=YourName")
                .errors()).singleElement().satisfies(problem -> {
                    assertThat(problem.field()).isEqualTo("variables[Name][first]");
                    assertThat(problem.message()).startsWith("is not a variable");
                });
        assertThat(fieldsOf(body("\"variables[Name][first]\":\"x\",\"variables[otp]\":\"1\"")))
                .containsExactly("variables[Name][first]");
        assertThat(parse("bridge=918068281234&to=919876543216&flow_id=24&variables[Name]=A").variables())
                .containsExactly(Map.entry("Name", "A"));
    }

    @Test
    void namesFieldsOfTheWrongType() {
        assertThat(fieldsOf(body("\"variables\":[\"a\"]"))).containsExactly("variables");
        assertThat(fieldsOf(body("\"variables\":{\"Name\":{\"nested\":1}}"))).containsExactly("variables[Name]");
        assertThat(fieldsOf(body("\"name\":true"))).containsExactly("name");
    }

    @Test
    void refusesARecipientsForeignIdThatIsNeitherTextNorANumberNamingIt() {
        ApiProblem problem = problemOf("""
                {"bridge":"918068281234","flow_id":"1","foreign_id":"batch-7","to":[
                 {"number":"919876543215","foreign_id":true},{"number":"919876543216","foreign_id":{"id":"c-2"}},
                 {"number":"919876543217","foreign_id":["c-3"]},{"number":"919876543218","foreign_id":null}]}""");

        assertThat(problem.errors()).containsExactly(new FieldProblem("to[0].foreign_id", "must be a string"),
                new FieldProblem("to[1].foreign_id", "must be a string"),
                new FieldProblem("to[2].foreign_id", "must be a string"));
        assertThat(fieldsOf("""
                {"bridge":"918068281234","flow_id":"1","to":[{"number":"919876543215","foreign_id":false}]}"""))
                .containsExactly("to[0].foreign_id");
    }

    @Test
    void namesTheEntryOfAnArrayOfOneByItsIndexAsAMemberGivenTwiceIsNamed() {
        assertThat(fieldsOf("{\"bridge\":\"918068281234\",\"flow_id\":\"1\",\"to\":[\"12345\"]}"))
                .containsExactly("to[0]");
        assertThat(fieldsOf("""
                {"bridge":"918068281234","flow_id":"1","to":[{"number":"919876543215","foreign_id":"x\\u0000"}]}"""))
                .containsExactly("to[0].foreign_id");
        assertThat(fieldsOf("""
                {"bridge":"918068281234","flow_id":"1","to":[{"number":"919876543215","foreign_id":"a",
                 "foreign_id":"b"}]}""")).containsExactly("to[0].foreign_id");
        assertThat(parse("{\"bridge\":\"918068281234\",\"flow_id\":\"1\",\"to\":[\"919876543215\"]}")
                .recipients()).extracting(SendRequest.Recipient::field).containsExactly("to[0]");
        assertThat(fieldsOf("{\"bridge\":\"918068281234\",\"flow_id\":\"1\",\"to\":\"12345\"}"))
                .as("a single number is to itself").containsExactly("to");
    }

    @Test
    void saysARecipientNumberOfTheWrongTypeIsOneNotThatItIsEmpty() {
        SendRequest request = parse("""
                {"bridge":"918068281234","flow_id":"1","to":[{"number":true},["919876543216"],
                 {"number":{"n":"919876543217"}},"919876543218"]}""");

        assertThat(request.recipients()).extracting(SendRequest.Recipient::field, SendRequest.Recipient::error)
                .containsExactly(tuple("to[0].number", SendRequestParser.MISTYPED_NUMBER),
                        tuple("to[1]", SendRequestParser.MISTYPED_NUMBER),
                        tuple("to[2].number", SendRequestParser.MISTYPED_NUMBER), tuple("to[3]", null));
    }

    @Test
    void namesTheNumberMemberOfAnObjectEntryAndSaysAMissingOneIsRequired() {
        SendRequest request = parse("""
                {"bridge":"918068281234","flow_id":"1","to":[{"mobile":"919876543215"},{"number":null},
                 {"number":"12345"},{"number":"919876543216"}]}""");

        assertThat(request.recipients()).extracting(SendRequest.Recipient::field, SendRequest.Recipient::error)
                .containsExactly(tuple("to[0].number", "is required"), tuple("to[1].number", "is required"),
                        tuple("to[2].number", PhoneNumbers.normalize("12345", IN).error()),
                        tuple("to[3].number", null));
        assertThat(request.recipients().get(2).error()).isNotNull();
    }

    @Test
    void namesAFormsIndexedRecipientsAsTheClientIndexedThem() {
        // PHP's array_filter keeps the keys it leaves: to[1] and to[2], no to[0].
        SendRequest request = parse("bridge=918068281234&flow_id=1&to[1]=919876543215&to[2]=12345");
        assertThat(request.recipients()).extracting(SendRequest.Recipient::field, SendRequest.Recipient::error)
                .containsExactly(tuple("to[1]", null), tuple("to[2]", PhoneNumbers.normalize("12345", IN).error()));
        assertThat(request.recipients().get(1).error()).isNotNull();

        assertThat(problemOf("bridge=918068281234&flow_id=1&to[5]=12345").errors())
                .extracting(FieldProblem::field).containsExactly("to[5]");
        assertThat(parse("bridge=918068281234&flow_id=1&to[0]=919876543215,12345&to[1]=919876543216").recipients())
                .as("each number of a list in one field is named by that field")
                .extracting(SendRequest.Recipient::field).containsExactly("to[0]", "to[0]", "to[1]");
        assertThat(parse("bridge=918068281234&flow_id=1&to=919876543215,12345&to=919876543216").recipients())
                .as("numbers without an index are named by their place")
                .extracting(SendRequest.Recipient::field).containsExactly("to[0]", "to[1]", "to[2]");
        assertThat(parse("bridge=918068281234&flow_id=1&to[1]=919876543215&to=12345").recipients())
                .as("a form that mixes the two: each number named by its place, none another's index")
                .extracting(SendRequest.Recipient::field).containsExactly("to[0]", "to[1]");
    }

    @Test
    void readsARecipientsNumericForeignIdAsItsText() {
        SendRequest request = parse("""
                {"bridge":"918068281234","flow_id":"1","to":[{"number":"919876543215","foreign_id":1042},
                 {"number":"919876543216","foreign_id":" c-2 "}]}""");

        assertThat(request.recipients()).extracting(SendRequest.Recipient::foreignId).containsExactly("1042", "c-2");
    }

    @Test
    void treatsEmptyOptionalValuesAsAbsent() {
        SendRequest request = parse(
                "bridge=918068281234&to=919876543215&audio=a&interval=&webhook_id=&foreign_id=&name=");

        assertThat(request.intervalMinutes()).isZero();
        assertThat(request.webhookId()).isNull();
        assertThat(request.foreignId()).isNull();
        assertThat(request.campaign()).isNull();
    }

    @Test
    void refusesAJsonMemberGivenTwiceNamingItRatherThanKeepingTheLast() {
        // The last "to" alone was kept: 919876543215 got no row, and nothing said why.
        assertThat(problemOf("""
                {"bridge":"918068281234","to":"919876543215","to":"919876543216","flow_id":"1"}""").errors())
                .containsExactly(new FieldProblem("to", "is given more than once"));
        assertThat(fieldsOf(body("\"variables\":{\"otp\":\"1\",\"otp\":\"2\"}")))
                .containsExactly("variables[otp]");
        assertThat(fieldsOf("""
                {"bridge":"918068281234","flow_id":"1","to":["919876543215",
                 {"number":"919876543216","foreign_id":"a","foreign_id":"b"}]}"""))
                .containsExactly("to[1].foreign_id");
    }

    @Test
    void refusesAVariableGivenAsAnObjectMemberAndAsAFlatKeyNamingItRatherThanKeepingTheLast() {
        // Both were read into one map: the later one was taken, and nothing said the other was dropped.
        assertThat(problemOf(body("\"variables\":{\"otp\":\"1\"},\"variables[otp]\":\"2\"")).errors())
                .containsExactly(new FieldProblem("variables[otp]", "is given more than once"));
        assertThat(fieldsOf(body("\"variables[otp]\":\"2\",\"variables\":{\"Name\":\"A\",\"otp\":\"1\"}")))
                .containsExactly("variables[otp]");
        // A name the object does not hold is merged as before.
        assertThat(parse(body("\"variables\":{\"Name\":\"A\"},\"variables[otp]\":\"2\"")).variables())
                .containsExactly(Map.entry("Name", "A"), Map.entry("otp", "2"));
    }

    @Test
    void refusesAFormFieldGivenTwiceNamingItRatherThanKeepingTheLast() {
        String valid = "bridge=918068281234&to=919876543215&flow_id=1";

        assertThat(problemOf("bridge=918068281234&bridge=918068281235&to=919876543215&flow_id=1").errors())
                .containsExactly(new FieldProblem("bridge", "is given more than once"));
        assertThat(fieldsOf(valid + "&foreign_id=x&foreign_id=y&name=a&name=b&name=c"))
                .containsExactly("foreign_id", "name");
        assertThat(fieldsOf(valid + "&variables[otp]=1&variables%5Botp%5D=2")).containsExactly("variables[otp]");
        assertThat(fieldsOf(valid + "&flow_id=2")).containsExactly("flow_id");
        assertThat(fieldsOf(valid + "&interval=&interval=15")).containsExactly("interval");
        assertThat(fieldsOf(valid + "&foreign_id=Caf%E9&foreign_id=Cafe")).containsExactly("foreign_id",
                "foreign_id");
        // A list's index given twice is a list written wrong, not a second recipient.
        assertThat(problemOf("bridge=918068281234&to[0]=919876543215&to%5B0%5D=919876543216&to[1]=919876543217"
                + "&to[0]=919876543218&flow_id=1").errors())
                .containsExactly(new FieldProblem("to[0]", "is given more than once"));
        // Recipients are listed by repeating to, and a field the endpoint does not read is ignored, repeated or not.
        SendRequest request = parse(valid + "&to=919876543216&to[]=919876543217&tags[]=a&tags[]=b&customid=1"
                + "&customid=2");
        assertThat(request.recipients()).extracting(SendRequest.Recipient::e164)
                .containsExactly("+919876543215", "+919876543216", "+919876543217");
    }

    @Test
    void namesAFormValueHoldingAPercentSignNotFollowedByTwoHexDigits() {
        String message = "holds a '%' not followed by two hex digits (at \"%\"); write a '%' itself as %25";

        assertThat(problemOf("bridge=918068281234&to=919876543215&flow_id=1&name=100%").errors())
                .containsExactly(new FieldProblem("name", message));
        assertThat(problemOf("bridge=918068281234&to=919876543215&flow_id=1&foreign_id=a%zz&variables[otp]=%4")
                .errors()).containsExactly(
                new FieldProblem("foreign_id", message.replace("\"%\"", "\"%zz\"")),
                new FieldProblem("variables[otp]", message.replace("\"%\"", "\"%4\"")));
        assertThat(fieldsOf("bridge=918068281234&to=%zz&flow_id=1")).containsExactly("to");
        // A name that cannot be read names no field: the form is malformed.
        assertThat(problemOf("bridge=918068281234&to=919876543215&flow_id=1&na%me=1").getBody().getType())
                .isEqualTo(Problems.MALFORMED_REQUEST);
    }

    @Test
    void refusesANumberLongerThanTheJsonReaderTakesNamingItsField() {
        String digits = "1".repeat(1500);

        assertThat(problemOf(body("\"max_attempts\":" + digits)).errors())
                .containsExactly(new FieldProblem("max_attempts", "is too large"));
        assertThat(fieldsOf(body("\"priority\":-" + digits))).containsExactly("priority");
        assertThat(fieldsOf(body("\"interval\":1." + "0".repeat(1500)))).containsExactly("interval");
        assertThat(fieldsOf("{\"bridge\":\"918068281234\",\"flow_id\":1,\"to\":[\"919876543215\"," + digits + "]}"))
                .containsExactly("to[1]");
        assertThat(fieldsOf(body("\"variables\":{\"otp\":" + digits + "}"))).containsExactly("variables[otp]");
    }

    @Test
    void refusesAMalformedJsonBodyAsMalformed() {
        ApiProblem problem = problemOf("{\"bridge\": ");

        assertThat(problem.getStatusCode().value()).isEqualTo(400);
        assertThat(problem.getBody().getType()).isEqualTo(Problems.MALFORMED_REQUEST);
    }

    @Test
    void refusesEmptyBodiesAndJsonArraysAsMalformed() {
        assertThat(problemOf("  ").getBody().getType()).isEqualTo(Problems.MALFORMED_REQUEST);
        assertThat(problemOf("[{}]").getBody().getType()).isEqualTo(Problems.MALFORMED_REQUEST);
        assertThat(problemOf("%zz=1").getBody().getType()).isEqualTo(Problems.MALFORMED_REQUEST);
    }

    @Test
    void refusesValuesLongerThanTheContractAllows() {
        assertThat(fieldsOf(body("\"foreign_id\":\"" + "x".repeat(129) + "\""))).containsExactly("foreign_id");
        assertThat(fieldsOf(body("\"webhook_id\":\"" + "x".repeat(65) + "\""))).containsExactly("webhook_id");
    }

    @Test
    void refusesEveryValueHoldingANulCharacterNamingItsField() {
        assertThat(fieldsOf(body("\"foreign_id\":\"a\\u0000\""))).containsExactly("foreign_id");
        assertThat(fieldsOf(body("\"name\":\"spring\\u0000\",\"webhook_id\":\"\\u0000w\""))).containsExactly("name",
                "webhook_id");
        assertThat(fieldsOf("{\"bridge\":\"918068281234\",\"to\":\"919876543215\",\"flow_id\":\"1\\u0000\"}"))
                .containsExactly("flow_id");
        assertThat(fieldsOf(body("\"variables[otp]\":\"12\\u000034\""))).containsExactly("variables[otp]");
        assertThat(fieldsOf(body("\"variables\":{\"o\\u0000tp\":\"1\"}"))).containsExactly("variables[o\u0000tp]");
        assertThat(fieldsOf("bridge=918068281234&to=919876543215&flow_id=1&name=a%00b")).containsExactly("name");
        assertThat(fieldsOf("bridge=918068281234&to=919876543215%00&flow_id=1")).containsExactly("to");
    }

    @Test
    void refusesAListWhoseRecipientHoldsANulCharacterNamingTheRecipient() {
        ApiProblem problem = problemOf("""
                {"bridge":"918068281234","flow_id":"1","to":[{"number":"919876543215","foreign_id":"crm\\u0000"},
                 "919876543216", "9198765\\u000043217"]}""");

        assertThat(problem.errors()).containsExactly(
                new FieldProblem("to[0].foreign_id", "must not contain NUL characters (U+0000)"),
                new FieldProblem("to[2]", "must not contain NUL characters (U+0000)"));
    }

    @Test
    void takesAsManyRecipientsAsTheLimitAndRefusesOneMoreWith413NamingTo() {
        String list = String.join(",", Collections.nCopies(MAX_RECIPIENTS, "919876543215"));
        String array = "[" + String.join(",", Collections.nCopies(MAX_RECIPIENTS + 1, "\"919876543215\"")) + "]";

        assertThat(parse("{\"bridge\":\"918068281234\",\"flow_id\":\"1\",\"to\":\"" + list
                + "\"}").recipients()).hasSize(MAX_RECIPIENTS);
        for (String to : List.of("\"" + list + ",919876543216\"", array)) {
            ApiProblem problem = catchThrowableOfType(ApiProblem.class, () -> parse(
                    "{\"bridge\":\"918068281234\",\"flow_id\":\"1\",\"to\":" + to + "}"));

            assertThat(problem.getStatusCode().value()).isEqualTo(413);
            assertThat(problem.getBody().getType()).isEqualTo(Problems.PAYLOAD_TOO_LARGE);
            assertThat(problem.errors()).containsExactly(new FieldProblem("to", "must hold at most 1000 recipients"));
            assertThat(problem.getBody().getDetail()).isEqualTo(
                    "to holds 1001 recipients; a request may hold at most 1000.");
        }
    }

    @Test
    void takesAsManyRepeatedFormRecipientsAsTheLimitAndStopsReadingAtTheFirstOneMoreWith413() {
        String repeats = String.join("&", Collections.nCopies(MAX_RECIPIENTS, "to=919876543215"));
        assertThat(parse("bridge=918068281234&flow_id=1&" + repeats).recipients()).hasSize(MAX_RECIPIENTS);

        // A pair that cannot be decoded follows the one past the limit: reaching it would be a 400 naming to.
        for (String more : List.of("&to[]=919876543216&to=%zz", "&to=919876543216,919876543217&to=%zz")) {
            ApiProblem problem = catchThrowableOfType(ApiProblem.class,
                    () -> parse("bridge=918068281234&flow_id=1&" + repeats + more));

            assertThat(problem.getStatusCode().value()).isEqualTo(413);
            assertThat(problem.getBody().getType()).isEqualTo(Problems.PAYLOAD_TOO_LARGE);
            assertThat(problem.errors()).containsExactly(new FieldProblem("to", "must hold at most 1000 recipients"));
            assertThat(problem.getBody().getDetail())
                    .isEqualTo("to holds more than 1000 recipients; a request may hold at most 1000.");
        }
    }

    @Test
    void countsTheCommaSeparatedNumbersOfEachRepeatedFormToAgainstTheLimit() {
        String half = String.join(",", Collections.nCopies(MAX_RECIPIENTS / 2, "919876543215"));

        assertThat(parse("bridge=918068281234&flow_id=1&to=" + half + "&to[]=" + half).recipients())
                .hasSize(MAX_RECIPIENTS);
        assertThat(catchThrowableOfType(ApiProblem.class,
                () -> parse("bridge=918068281234&flow_id=1&to=" + half + "&to=" + half + ",919876543216"))
                .getStatusCode().value()).isEqualTo(413);
    }

    @Test
    void numbersGivenAsVariablesAreTheirTextAsWritten() {
        SendRequest request = parse(body("\"variables\":{\"amount\":10.50,\"count\":3,\"rate\":0.1,"
                + "\"whole\":15.0,\"negative\":-2.25}"));

        assertThat(request.variables()).containsExactlyInAnyOrderEntriesOf(Map.of("amount", "10.50", "count", "3",
                "rate", "0.1", "whole", "15.0", "negative", "-2.25"));
        // Decimal numbers read so are still whole numbers where one is asked for.
        assertThat(parse(body("\"interval\":15.0")).intervalMinutes()).isEqualTo(15);
    }

    @Test
    void countsNamesAndForeignIdsInCharactersAsTheKafkaContractDoes() {
        String emoji = "\uD83D\uDE00"; // one character, two UTF-16 units
        String longest = emoji.repeat(128);

        SendRequest request = parse("{\"bridge\":\"918068281234\",\"flow_id\":\"1\",\"name\":\"" + longest
                + "\",\"foreign_id\":\"" + longest + "\",\"to\":[{\"number\":\"919876543215\",\"foreign_id\":\""
                + longest + "\"},\"919876543216\"]}");

        assertThat(request.campaign()).isEqualTo(longest);
        assertThat(request.recipients()).extracting(request::foreignIdOf).containsExactly(longest, longest);
        assertThat(problemOf(body("\"name\":\"" + longest + "a\"")).errors())
                .containsExactly(new FieldProblem("name", "must be at most 128 characters"));
        assertThat(problemOf("{\"bridge\":\"918068281234\",\"flow_id\":\"1\",\"to\":[{\"number\":\"919876543215\","
                + "\"foreign_id\":\"" + emoji + longest + "\"}]}").errors())
                .extracting(FieldProblem::field).containsExactly("to[0].foreign_id");
    }

    @Test
    void aRecipientRefusedForItsOwnForeignIdShowsNoneNotTheRequests() {
        SendRequest request = parse("""
                {"bridge":"918068281234","flow_id":"1","foreign_id":"batch-1","to":[
                 {"number":"919876543215","foreign_id":"%s"},"919876543216",
                 {"number":"12345","foreign_id":"crm-3"}]}""".formatted("x".repeat(129)));

        assertThat(request.recipients()).extracting(SendRequest.Recipient::field)
                .containsExactly("to[0].foreign_id", "to[1]", "to[2].number");
        assertThat(request.recipients()).extracting(request::foreignIdOf).containsExactly(null, "batch-1", "crm-3");
    }

    private static SendRequest parse(String body) {
        return SendRequestParser.parse(body, IN, MAX_RECIPIENTS);
    }

    /** A valid caller ID of {@code length} characters, padded with the spaces a number may be written with. */
    private static String spacedOut(int length) {
        return "+91" + " ".repeat(length - 13) + "8068281234";
    }

    private static String withBridge(String bridge) {
        return "{\"to\":\"919876543215\",\"flow_id\":\"1\",\"bridge\":\"" + bridge + "\"}";
    }

    private static String body(String extra) {
        return "{\"bridge\":\"918068281234\",\"to\":\"919876543215\",\"flow_id\":\"1\"," + extra + "}";
    }

    private static List<String> fieldsOf(String body) {
        ApiProblem problem = problemOf(body);
        assertThat(problem.getBody().getType()).isEqualTo(Problems.VALIDATION);
        return problem.errors().stream().map(FieldProblem::field).toList();
    }

    private static ApiProblem problemOf(String body) {
        ApiProblem problem = catchThrowableOfType(ApiProblem.class, () -> parse(body));
        assertThat(problem).as("a problem for %s", body).isNotNull();
        assertThat(problem.getStatusCode().value()).isEqualTo(400);
        return problem;
    }
}
