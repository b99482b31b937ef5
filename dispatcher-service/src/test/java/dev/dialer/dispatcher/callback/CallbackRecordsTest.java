package dev.dialer.dispatcher.callback;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.dialer.common.contract.ContractViolation;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CallbackRecordsTest {

    @Test
    void aRecordThatIsNotJsonIsNotJsonAndOneThatIsNoCallbackOfOursIsSchemaInvalid() {
        ContractViolation notJson = CallbackRecords.violation(readFailure("this is not JSON"));
        ContractViolation untagged = CallbackRecords.violation(
                readFailure("{\"call_sid\":\"vg-1\",\"call_status\":\"completed\"}"));
        ContractViolation noStatus = CallbackRecords.violation(readFailure("{\"call_sid\":\"vg-1\"}"));

        assertThat(notJson.code()).isEqualTo(ContractViolation.Code.NOT_JSON);
        assertThat(untagged.code()).isEqualTo(ContractViolation.Code.SCHEMA_INVALID);
        assertThat(untagged.getMessage()).startsWith("customerData.request_id: ");
        assertThat(noStatus.code()).isEqualTo(ContractViolation.Code.SCHEMA_INVALID);
        assertThat(noStatus.getMessage()).startsWith("call_status: ");
    }

    @Test
    void anyOtherFailureIsOurs() {
        ContractViolation violation = CallbackRecords.violation(new IllegalStateException("value too long"));

        assertThat(violation.code()).isEqualTo(ContractViolation.Code.PROCESSING_ERROR);
        assertThat(violation.getMessage()).contains("value too long");
    }

    private static Throwable readFailure(String body) {
        Throwable failure = catchThrowable(() -> CallbackRecords.read(body.getBytes(StandardCharsets.UTF_8), Map.of()));
        assertThat(failure).as(body).isInstanceOf(JambonzCallbackReader.InvalidCallback.class);
        return failure;
    }
}
