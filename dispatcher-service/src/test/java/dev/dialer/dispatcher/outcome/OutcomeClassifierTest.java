package dev.dialer.dispatcher.outcome;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.dialer.common.contract.AttemptStatus;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class OutcomeClassifierTest {

    private final OutcomeClassifier classifier = new OutcomeClassifier();

    @Test
    void completedCallIsAnswered() {
        assertThat(classifier.classify(AttemptStatus.COMPLETED, 200, "OK"))
                .isEqualTo(new Outcome(Verdict.ANSWERED, AttemptStatus.COMPLETED));
    }

    @ParameterizedTest(name = "{0} {1} \"{2}\" → {3}, reported {4}")
    @CsvSource(delimiter = '|', nullValues = "null", textBlock = """
            busy      | 486 | Busy Here                      | RETRYABLE   | busy
            busy      | 600 | Busy Everywhere                | RETRYABLE   | busy
            failed    | 600 | Busy Everywhere                | RETRYABLE   | busy
            no-answer | 487 | Request Terminated             | RETRYABLE   | no-answer
            failed    | 480 | Temporarily Unavailable        | RETRYABLE   | no-answer
            failed    | 408 | Request Timeout                | RETRYABLE   | no-answer
            failed    | 500 | Internal Server Error          | RETRYABLE   | failed
            failed    | 502 | Bad Gateway                    | RETRYABLE   | failed
            failed    | 504 | Server Time-out                | RETRYABLE   | failed
            failed    | 503 | Service Unavailable            | RETRYABLE   | failed
            failed    | 503 | No Active Subscription         | RETRYABLE   | failed
            failed    | 404 | Not Found                      | UNREACHABLE | failed
            failed    | 484 | Address Incomplete             | UNREACHABLE | failed
            failed    | 410 | Gone                           | UNREACHABLE | failed
            failed    | 604 | Does Not Exist Anywhere        | UNREACHABLE | failed
            busy      | 603 | Decline                        | DECLINED    | busy
            failed    | 603 | Decline                        | DECLINED    | busy
            failed    | 503 | Max Account Calls In Progress  | CAPACITY    | failed
            failed    | 503 | Maximum Calls In Progress      | CAPACITY    | failed
            failed    | 503 | Max Service Provider Calls In Progress | CAPACITY | failed
            failed    | 503 | Service Unavailable (X-Call-Limit: 20) | CAPACITY | failed
            failed    | 403 | User channel limit exceeded    | CAPACITY    | failed
            failed    | 429 | Too Many Requests              | CAPACITY    | failed
            failed    | 503 | Service Unavailable (X-Call-Limit: 20) (after ringing) | RETRYABLE | failed
            failed    | 503 | Max Account Calls In Progress (after ringing) | RETRYABLE | failed
            failed    | 429 | Too Many Requests (after ringing) | UNREACHABLE | failed
            failed    | 429 | (after ringing)                | UNREACHABLE | failed
            failed    | 403 | User channel limit exceeded (after ringing) | UNREACHABLE | failed
            failed    | 403 | Forbidden                      | UNREACHABLE | failed
            failed    | 488 | Not Acceptable Here            | UNREACHABLE | failed
            failed    | 599 | Whatever                       | RETRYABLE   | failed
            failed    | 401 | Unauthorized                   | RETRYABLE   | failed
            failed    | 407 | Proxy Authentication Required  | RETRYABLE   | failed
            busy      | null | null                          | RETRYABLE   | busy
            no-answer | null | null                          | RETRYABLE   | no-answer
            failed    | null | null                          | RETRYABLE   | failed
            canceled  | 487 | Request Terminated             | CANCELED    | canceled
            """)
    void classifiesBySipStatusAndReason(String status, Integer sip, String reason, Verdict verdict, String reported) {
        Outcome outcome = classifier.classify(AttemptStatus.fromWire(status), sip, reason);

        assertThat(outcome.verdict()).isEqualTo(verdict);
        assertThat(outcome.attemptStatus().wire()).isEqualTo(reported);
    }

    @Test
    void refusesAStatusThatHasNotEnded() {
        assertThatThrownBy(() -> classifier.classify(AttemptStatus.RINGING, 180, "Ringing"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
