package dev.dialer.dispatcher.carrier.sip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.callback.CarrierCallback;
import dev.dialer.dispatcher.carrier.CallRef;
import dev.dialer.dispatcher.carrier.PlacedCall;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Two SIP carriers on the real PostgreSQL, as two dispatchers: a cancel is acted on by whichever dispatcher claims it
 * first, so a hang-up asked of the one that does not hold the call must still end it, through the kept call.
 */
class SipHangUpAcrossDispatchersIT extends DispatcherOnDatabase {

    private static final Duration SIPP_WAIT = Duration.ofSeconds(60);

    private final ConcurrentLinkedQueue<CarrierCallback> reported = new ConcurrentLinkedQueue<>();
    private Sipp sipp;
    private SipTrunkCarrier holder;
    private SipTrunkCarrier other;

    @AfterEach
    void stop() {
        for (AutoCloseable closeable : new AutoCloseable[] {holder, other, sipp}) {
            try {
                if (closeable != null) {
                    closeable.close();
                }
            } catch (Exception ignored) {
                // the next one is closed all the same
            }
        }
    }

    @Test
    void hangUpAskedOfTheDispatcherThatDoesNotHoldARingingCallCancelsItThroughItsHolder() throws Exception {
        String requestId = "sip-elsewhere-" + UUID.randomUUID();
        PlacedCall placed = heldElsewhere("ring-until-cancel", command(requestId), AttemptStatus.RINGING);

        other.hangUp(new CallRef(requestId, 1, placed.callId())).block(WAIT);

        assertThat(sipp.awaitExit(SIPP_WAIT)).as("sipp received our CANCEL: %s", sipp.output()).isZero();
        await().atMost(WAIT).untilAsserted(() -> assertThat(statuses(requestId))
                .containsExactly(AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.CANCELED));
        await().atMost(WAIT).until(() -> kept(placed.callId()) == 0);
    }

    @Test
    void hangUpAskedOfTheDispatcherThatDoesNotHoldAnAnsweredCallIsTooLateAndTheCallTalksOn() throws Exception {
        String requestId = "sip-elsewhere-answered-" + UUID.randomUUID();
        PlacedCall placed = heldElsewhere("answer-and-stay",
                command(requestId, Map.of("timeout", 120, "timeLimit", 3)), AttemptStatus.IN_PROGRESS);

        assertThat(other.hangUp(new CallRef(requestId, 1, placed.callId())).block(WAIT))
                .as("answered: a person is on the line, the cancel comes too late").isTrue();

        assertThat(hangUpAsked(placed.callId())).as("its holder is not asked to hang up").isFalse();
        assertThat(sipp.awaitExit(SIPP_WAIT)).as("sipp received our BYE at the time limit: %s", sipp.output())
                .isZero();
        await().atMost(WAIT).untilAsserted(() -> assertThat(statuses(requestId)).containsExactly(
                AttemptStatus.INITIATED, AttemptStatus.RINGING, AttemptStatus.IN_PROGRESS, AttemptStatus.COMPLETED));
    }

    /**
     * The call placed by the holder against sipp's {@code scenario}, once it reached {@code status}; the other
     * dispatcher, which does not hold it, is started too.
     */
    private PlacedCall heldElsewhere(String scenario, CallCommand command, AttemptStatus status) throws Exception {
        sipp = Sipp.uas(scenario);
        holder = carrier("holder");
        other = carrier("other");
        PlacedCall placed = holder.place(command, 1).block(WAIT);
        assertThat(placed).isNotNull();
        await().atMost(WAIT).until(() -> statuses(command.requestId()).contains(status));
        return placed;
    }

    private SipTrunkCarrier carrier(String name) {
        SipTrunkProperties properties = new SipTrunkProperties(true, "127.0.0.1", sipp.port(),
                "udp", "127.0.0.1", 0, null, null, null, null, 40000, Duration.ofSeconds(120), Duration.ofMinutes(5),
                2, Duration.ofSeconds(3), 3, Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofMillis(500));
        SipTrunkCarrier carrier = new SipTrunkCarrier(properties,
                callback -> Mono.fromRunnable(() -> reported.add(callback)), Clock.systemUTC(),
                new SimpleMeterRegistry(), new PostgresDialogStore(db, name + "-" + UUID.randomUUID(),
                properties.dialogLease()));
        carrier.start();
        return carrier;
    }

    private java.util.List<AttemptStatus> statuses(String requestId) {
        return reported.stream().filter(callback -> callback.requestId().equals(requestId))
                .map(CarrierCallback::status).toList();
    }

    private long kept(String callId) {
        return db.sql("SELECT count(*) FROM dispatch.sip_dialogs WHERE call_id = $1").bind(0, callId)
                .map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    private boolean hangUpAsked(String callId) {
        return db.sql("SELECT hangup_requested_at IS NOT NULL FROM dispatch.sip_dialogs WHERE call_id = $1")
                .bind(0, callId).map(row -> row.get(0, Boolean.class)).one().block(WAIT);
    }

    private static CallCommand command(String requestId) {
        return command(requestId, Map.of("timeout", 120));
    }

    private static CallCommand command(String requestId, Map<String, Object> carrierOptions) {
        return new CallCommand(1, requestId, "acc-1", "+4930123456", "+4930654321", "flow-1", null, "spring", 0, 3, 1,
                null, null, Map.of(), null, null, null, null, carrierOptions, Instant.now());
    }
}
