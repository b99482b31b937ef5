package dev.dialer.dispatcher.attempt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.CallCommand;
import dev.dialer.common.contract.Contract;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

class OpenAttemptsTest {

    /** A ledger that answers every lookup with the command it was asked for under attempt 1, and counts them. */
    private static final class CountingLedger extends AttemptLedger {

        final List<String> lookups = new ArrayList<>();

        CountingLedger() {
            super(null);
        }

        @Override
        public Mono<CallCommand> findCommand(String requestId, int attempt) {
            lookups.add(requestId + "#" + attempt);
            return Mono.just(command(requestId, 1));
        }
    }

    private final CountingLedger ledger = new CountingLedger();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final OpenAttempts open = new OpenAttempts(ledger, registry);

    @Test
    void aRecordedAttemptsCommandIsFoundWithoutTheLedgerUntilTheAttemptEnds() {
        CallCommand retry = command("req-1", 2);
        open.recorded(retry, 1);

        assertThat(open.command("req-1", 2).block()).isSameAs(retry);
        assertThat(ledger.lookups).isEmpty();

        open.ended("req-1", 2);
        assertThat(open.command("req-1", 2).block()).isNotSameAs(retry);
        assertThat(ledger.lookups).containsExactly("req-1#2");
        assertThat(lookups("hit")).isEqualTo(1);
        assertThat(lookups("miss")).isEqualTo(1);
    }

    @Test
    void anotherAttemptOfTheSameRequestIsNotTakenForIt() {
        open.recorded(command("req-1", 1), 1);

        open.command("req-1", 2).block();
        assertThat(ledger.lookups).containsExactly("req-1#2");
    }

    @Test
    void aCallbackAboutAnEarlierDialThanTheOneRecordedIsKnownToBeSuperseded() {
        open.recorded(command("req-1", 1), 2);

        assertThat(open.laterDialThan("req-1", 1, 1)).isTrue();
        assertThat(open.laterDialThan("req-1", 1, 2)).isFalse();
        assertThat(open.laterDialThan("req-1", 1, 3)).as("a dial this dispatcher has not recorded").isFalse();
        assertThat(open.laterDialThan("req-1", 1, null)).as("a callback naming no dial").isFalse();
        assertThat(open.laterDialThan("req-1", 2, 1)).as("another attempt").isFalse();
        open.ended("req-1", 1);
        assertThat(open.laterDialThan("req-1", 1, 1)).as("unknown once ended: the ledger decides").isFalse();
    }

    @Test
    void theOldestEntriesGiveWayBeyondTheCapacity() {
        for (int i = 0; i <= OpenAttempts.CAPACITY; i++) {
            open.recorded(command("req-" + i, 1), 1);
        }

        open.command("req-0", 1).block();
        open.command("req-1", 1).block();
        open.command("req-" + OpenAttempts.CAPACITY, 1).block();
        assertThat(ledger.lookups).as("only the first, evicted, is read back").containsExactly("req-0#1");
    }

    private double lookups(String result) {
        return registry.get("dialer.dispatcher.open.attempts.lookups").tag("result", result).counter().count();
    }

    private static CallCommand command(String requestId, int attempt) {
        return Contract.read("""
                {"version":1,"request_id":"%s","account_id":"acc","caller_id":"+4930777100",\
                "to":"+4915112345678","audio":"welcome.wav","attempt":%d,"created_at":"2026-11-29T00:00:00Z"}"""
                .formatted(requestId, attempt).getBytes(), CallCommand.class);
    }
}
