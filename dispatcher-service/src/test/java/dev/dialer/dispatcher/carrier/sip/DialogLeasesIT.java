package dev.dialer.dispatcher.carrier.sip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
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
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Kept SIP calls on the real PostgreSQL: a call held under a live lease is nobody else's; once its holder gives the
 * lease up or lets it lapse, carriers claiming at the same moment never get the same call, and the former holder can
 * no longer write, delete or renew it. A carrier renews the leases of the calls it still runs, never of one that ended
 * but whose row it failed to delete, and lets go of a call another took over.
 */
class DialogLeasesIT extends DispatcherOnDatabase {

    @Test
    void aLiveLeaseKeepsCallsAndLapsedOnesAreClaimedByExactlyOneCarrier() {
        String batch = "lease-" + UUID.randomUUID();
        DialogStore holder = store("holder-" + batch);
        List<SipDialog> calls = IntStream.range(0, 20).mapToObj(i -> dialog(batch + "-" + i)).toList();
        Flux.fromIterable(calls).concatMap(holder::save).then().block(WAIT);

        assertThat(mine(store("early-" + batch).claimOrphans(1000), batch)).as("held under a live lease").isEmpty();
        assertThat(holder.find(batch + "-3").block(WAIT)).isEqualTo(calls.get(3));

        holder.releaseLeases().block(WAIT);
        List<List<String>> claims = Flux.range(0, 4)
                .flatMap(i -> store("claimer-" + i + "-" + batch).claimOrphans(1000)
                        .collectList()
                        .map(claimed -> claimed.stream().map(SipDialog::callId)
                                .filter(id -> id.startsWith(batch)).toList())
                        .subscribeOn(Schedulers.boundedElastic()))
                .collectList()
                .block(WAIT);
        Set<String> union = new HashSet<>();
        claims.forEach(claimed -> claimed.forEach(callId -> assertThat(union.add(callId))
                .as("%s claimed twice", callId).isTrue()));
        assertThat(union).hasSize(calls.size());
    }

    @Test
    void aRenewedLeaseOutlivesItsFirstTermAndALapsedOneIsTakenOver() {
        String batch = "renew-" + UUID.randomUUID();
        DialogStore holder = store("holder-" + batch);
        holder.save(dialog(batch + "-0")).block(WAIT);
        backdate(batch, "2 seconds");
        holder.renewLeases(List.of(batch + "-0")).then().block(WAIT);

        assertThat(mine(store("other-" + batch).claimOrphans(1000), batch)).as("renewed").isEmpty();

        backdate(batch, "2 seconds");
        DialogStore next = store("next-" + batch);
        assertThat(mine(next.claimOrphans(1000), batch)).containsExactly(batch + "-0");
        next.forget(batch + "-0").block(WAIT);
        assertThat(next.find(batch + "-0").blockOptional(WAIT)).isEmpty();
    }

    @Test
    void aCallThatEndedButCouldNotBeForgottenIsNoLongerRenewedAndIsClearedOnceItsLeaseLapses() throws Exception {
        String owner = "ended-" + UUID.randomUUID();
        ForgetFailsOnce dialogs = new ForgetFailsOnce(new PostgresDialogStore(db, owner, Duration.ofSeconds(3)));
        Queue<CarrierCallback> reported = new ConcurrentLinkedQueue<>();
        try (Sipp busy = Sipp.uas("busy");
             SipTrunkCarrier carrier = new SipTrunkCarrier(new SipTrunkProperties(true, "127.0.0.1", busy.port(), "udp",
                     "127.0.0.1", 0, null, null, null, null, 40000, Duration.ofSeconds(30), Duration.ofMinutes(5), 2,
                     Duration.ofSeconds(3), 3, Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofMillis(500)), callback -> Mono.fromRunnable(() -> reported.add(callback)),
                     Clock.systemUTC(), new SimpleMeterRegistry(), dialogs)) {
            carrier.start();
            String requestId = "ended-" + UUID.randomUUID();
            PlacedCall placed = carrier.place(new CallCommand(1, requestId, "acc-1", "+4930123456", "+4930654321",
                    "flow-1", null, "spring", 0, 3, 1, null, null, Map.of(), null, null, null, null, Map.of(),
                    Instant.now()), 1).block(WAIT);
            assertThat(placed).isNotNull();
            await().atMost(WAIT).until(() -> reported.stream().anyMatch(c -> c.status() == AttemptStatus.BUSY));
            // The row is let go once the end is reported.
            await().atMost(WAIT).untilAsserted(() -> assertThat(dialogs.failedForgets.get())
                    .as("the ended call's row was left behind").isEqualTo(1));

            await().atMost(WAIT).until(() -> kept(placed.callId()) == 0);
        }
    }

    /**
     * A renewal whose statement never answers (a primary gone without a reset) is given up at the tick's end: the next
     * tick renews, and the call this process runs keeps its lease rather than lapsing, to be ended by whoever claims
     * it.
     */
    @Test
    void aRenewalThatNeverAnswersIsGivenUpAndTheNextTickKeepsTheCallsLease() throws Exception {
        String owner = "hung-" + UUID.randomUUID();
        Duration lease = Duration.ofSeconds(3);
        FirstRenewalHangs dialogs = new FirstRenewalHangs(new PostgresDialogStore(db, owner, lease));
        Queue<CarrierCallback> reported = new ConcurrentLinkedQueue<>();
        String callId = null;
        try (Sipp trunk = Sipp.uas("answer-and-stay");
             SipTrunkCarrier carrier = new SipTrunkCarrier(new SipTrunkProperties(true, "127.0.0.1", trunk.port(),
                     "udp", "127.0.0.1", 0, null, null, null, null, 40000, Duration.ofSeconds(30),
                     Duration.ofMinutes(5), 2, lease, 3, Duration.ofSeconds(10), Duration.ofSeconds(2),
                     Duration.ofMillis(500)), callback -> Mono.fromRunnable(() -> reported.add(callback)),
                     Clock.systemUTC(), new SimpleMeterRegistry(), dialogs)) {
            carrier.start();
            PlacedCall placed = carrier.place(new CallCommand(1, "hung-" + UUID.randomUUID(), "acc-1", "+4930123456",
                    "+4930654321", "flow-1", null, "spring", 0, 3, 1, null, null, Map.of(), null, null, null, null,
                    Map.of(), Instant.now()), 1).block(WAIT);
            assertThat(placed).isNotNull();
            callId = placed.callId();
            await().atMost(WAIT).until(() -> reported.stream().anyMatch(c -> c.status() == AttemptStatus.IN_PROGRESS));
            await().atMost(WAIT).until(() -> dialogs.hung.get());

            // Three leases on: renewed all along, still this process's, and the call still up.
            Thread.sleep(lease.multipliedBy(3).toMillis());
            assertThat(db.sql("SELECT lease_until > now() FROM dispatch.sip_dialogs WHERE call_id = $1")
                    .bind(0, callId).map(row -> row.get(0, Boolean.class)).one().block(WAIT)).as("its lease renewed")
                    .isTrue();
            assertThat(owner(callId)).isEqualTo(owner);
            assertThat(reported).extracting(CarrierCallback::status).doesNotContain(AttemptStatus.COMPLETED,
                    AttemptStatus.FAILED);
        } finally {
            if (callId != null) {
                db.sql("DELETE FROM dispatch.sip_dialogs WHERE call_id = $1").bind(0, callId).then().block(WAIT);
            }
        }
    }

    @Test
    void aCarrierWhoseLeaseLapsedCanNeitherOverwriteNorDeleteNorRenewTheCallAnotherTookOver() {
        String batch = "fence-" + UUID.randomUUID();
        String callId = batch + "-0";
        DialogStore holder = new PostgresDialogStore(db, "holder-" + batch, Duration.ofSeconds(3));
        SipDialog ringing = dialog(callId);
        holder.save(ringing).block(WAIT);
        assertThat(holder.update(ringing).block(WAIT)).as("still held").isTrue();
        assertThat(holder.renewLeases(List.of(callId)).collectList().block(WAIT)).as("renewed").isEmpty();

        backdate(batch, "1 second");
        DialogStore next = store("next-" + batch);
        assertThat(mine(next.claimOrphans(1000), batch)).containsExactly(callId);

        assertThat(holder.update(ringing).block(WAIT)).as("taken over: not written").isFalse();
        assertThat(holder.renewLeases(List.of(callId)).collectList().block(WAIT)).containsExactly(callId);
        holder.forget(callId).block(WAIT);
        assertThat(owner(callId)).isEqualTo("next-" + batch);
        assertThat(catchThrowable(() -> holder.save(ringing).block(WAIT)))
                .as("a new call of that id is refused while another holds it")
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("held by another dispatcher");
        assertThat(owner(callId)).isEqualTo("next-" + batch);

        // The other ended it: the row is gone, and the first holder does not bring it back.
        next.forget(callId).block(WAIT);
        assertThat(holder.update(ringing).block(WAIT)).isFalse();
        assertThat(holder.renewLeases(List.of(callId)).collectList().block(WAIT)).containsExactly(callId);
        assertThat(kept(callId)).isZero();
    }

    @Test
    void anAnsweredCallTakenOverElsewhereIsHungUpHereAndReportsNothingMore() throws Exception {
        // Nothing happens to the call here: the next lease renewal (every second) finds it gone.
        takenOverWhile("answer-and-stay", AttemptStatus.IN_PROGRESS, Duration.ofSeconds(3), (carrier, placed) -> { });
    }

    @Test
    void aRingingCallTakenOverElsewhereEndsHereWithoutReportingItsEndEvenWhenItsCancelIsAnswered() throws Exception {
        // The lease is renewed every 10 s, so no renewal notices first: the call ends here (our CANCEL, the trunk's
        // 487), and before reporting that end this process finds it no longer holds the call.
        takenOverWhile("ring-until-cancel", AttemptStatus.RINGING, Duration.ofSeconds(30),
                (carrier, placed) -> carrier.hangUp(new CallRef(placed.requestId(), 1, placed.callId())).block(WAIT));
    }

    @Test
    void aRingingCallTakenOverElsewhereWhoseAnswerCrossesItsCancelIsAcknowledgedAndHungUpHere() throws Exception {
        // The lease renewal (every second) finds the call gone and cancels it; the callee answers as the CANCEL
        // arrives, to this process, which alone can end that call: its ACK and BYE are in the stack's dialog.
        takenOverWhile("answer-crossing-taken-over-cancel", AttemptStatus.RINGING, Duration.ofSeconds(3),
                (carrier, placed) -> { });
    }

    private record Placed(String requestId, String callId) {
    }

    /**
     * Places a call on the trunk {@code scenario}, waits for {@code reached}, hands the call to another dispatcher as a
     * takeover would, runs {@code then}, and expects the trunk's scenario to end (our BYE or CANCEL reached it, long
     * before the 5-minute time limit) with nothing more reported for the call here.
     */
    private void takenOverWhile(String scenario, AttemptStatus reached, Duration lease,
                                java.util.function.BiConsumer<SipTrunkCarrier, Placed> then) throws Exception {
        String owner = "taken-" + UUID.randomUUID();
        String requestId = "taken-" + UUID.randomUUID();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Queue<CarrierCallback> reported = new ConcurrentLinkedQueue<>();
        String callId = null;
        try (Sipp trunk = Sipp.uas(scenario);
             SipTrunkCarrier carrier = new SipTrunkCarrier(new SipTrunkProperties(true, "127.0.0.1", trunk.port(),
                     "udp", "127.0.0.1", 0, null, null, null, null, 40000, Duration.ofSeconds(30),
                     Duration.ofMinutes(5), 2, lease, 3, Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofMillis(500)),
                     callback -> Mono.fromRunnable(() -> {
                         if (callback.requestId().equals(requestId)) {
                             reported.add(callback);
                         }
                     }), Clock.systemUTC(), registry, new PostgresDialogStore(db, owner, lease))) {
            carrier.start();
            PlacedCall placed = carrier.place(new CallCommand(1, requestId, "acc-1", "+4930123456", "+4930654321",
                    "flow-1", null, "spring", 0, 3, 1, null, null, Map.of(), null, null, null, null, Map.of(),
                    Instant.now()), 1).block(WAIT);
            assertThat(placed).isNotNull();
            callId = placed.callId();
            await().atMost(WAIT).until(() -> reported.stream().anyMatch(c -> c.status() == reached));
            List<AttemptStatus> before = reported.stream().map(CarrierCallback::status).toList();

            // Another dispatcher claimed the call while this one's lease had lapsed (a stall, a lost connection).
            db.sql("UPDATE dispatch.sip_dialogs SET owner = 'elsewhere', lease_until = now() + interval '1 minute'"
                    + " WHERE call_id = $1").bind(0, callId).then().block(WAIT);
            then.accept(carrier, new Placed(requestId, callId));

            assertThat(trunk.awaitExit(Duration.ofSeconds(20))).as("the trunk's scenario ended long before the "
                    + "5-minute time limit: %s", trunk.output()).isZero();
            await().atMost(WAIT).until(() -> registry.counter("dialer.dispatcher.carrier.sip.taken_over").count() == 1);
            Thread.sleep(1_000);
            assertThat(reported).as("the other dispatcher reports the end").extracting(CarrierCallback::status)
                    .isEqualTo(before);
            assertThat(owner(callId)).isEqualTo("elsewhere");
        } finally {
            if (callId != null) {
                db.sql("DELETE FROM dispatch.sip_dialogs WHERE call_id = $1").bind(0, callId).then().block(WAIT);
            }
        }
    }

    private String owner(String callId) {
        return db.sql("SELECT owner FROM dispatch.sip_dialogs WHERE call_id = $1").bind(0, callId)
                .map(row -> row.get(0, String.class)).one().block(WAIT);
    }

    /** Its first renewal of a held call never answers; everything else goes through. */
    private static final class FirstRenewalHangs extends Delegating {
        private final AtomicBoolean hung = new AtomicBoolean();

        FirstRenewalHangs(DialogStore store) {
            super(store);
        }

        @Override
        public Flux<String> renewLeases(Collection<String> running) {
            return !running.isEmpty() && hung.compareAndSet(false, true) ? Flux.never() : super.renewLeases(running);
        }
    }

    /** Its first {@code forget} fails, as on a database that is briefly away; everything else goes through. */
    private static final class ForgetFailsOnce extends Delegating {
        private final AtomicInteger failedForgets = new AtomicInteger();

        ForgetFailsOnce(DialogStore store) {
            super(store);
        }

        @Override
        public Mono<Void> forget(String callId) {
            return Mono.defer(() -> failedForgets.compareAndSet(0, 1)
                    ? Mono.error(new IllegalStateException("database away")) : super.forget(callId));
        }
    }

    /** A dialog store that passes everything on to {@code store}. */
    private static class Delegating implements DialogStore {
        private final DialogStore store;

        Delegating(DialogStore store) {
            this.store = store;
        }

        @Override
        public Mono<Void> save(SipDialog dialog) {
            return store.save(dialog);
        }

        @Override
        public Mono<Boolean> update(SipDialog dialog) {
            return store.update(dialog);
        }

        @Override
        public Mono<Void> forget(String callId) {
            return store.forget(callId);
        }

        @Override
        public Mono<SipDialog> find(String callId) {
            return store.find(callId);
        }

        @Override
        public Mono<SipDialog.State> requestHangUp(String callId) {
            return store.requestHangUp(callId);
        }

        @Override
        public Flux<String> hangUpsRequested() {
            return store.hangUpsRequested();
        }

        @Override
        public Flux<String> renewLeases(Collection<String> running) {
            return store.renewLeases(running);
        }

        @Override
        public Mono<Void> releaseLeases() {
            return store.releaseLeases();
        }

        @Override
        public Mono<Void> release(String callId) {
            return store.release(callId);
        }

        @Override
        public Flux<SipDialog> claimOrphans(int limit) {
            return store.claimOrphans(limit);
        }
    }

    private long kept(String callId) {
        return db.sql("SELECT count(*) FROM dispatch.sip_dialogs WHERE call_id = $1").bind(0, callId)
                .map(row -> row.get(0, Long.class)).one().block(WAIT);
    }

    private void backdate(String batch, String by) {
        db.sql("UPDATE dispatch.sip_dialogs SET lease_until = now() - interval '" + by + "' WHERE call_id LIKE $1")
                .bind(0, batch + "-%").then().block(WAIT);
    }

    private Set<String> mine(Flux<SipDialog> claimed, String batch) {
        Set<String> ids = new HashSet<>();
        claimed.map(SipDialog::callId).filter(id -> id.startsWith(batch)).doOnNext(ids::add).then().block(WAIT);
        return ids;
    }

    private DialogStore store(String owner) {
        return new PostgresDialogStore(db, owner, Duration.ofMinutes(1));
    }

    private static SipDialog dialog(String callId) {
        return new SipDialog(callId, "req-" + callId, 1, 2, "127.0.0.1:5060/udp", SipDialog.State.CONFIRMED,
                "sip:+4915112345678@127.0.0.1:5060;transport=udp", "z9hG4bK" + callId.hashCode(), "127.0.0.1", 5062,
                "sip:+4930123456@127.0.0.1", "tag-local", "sip:+4915112345678@127.0.0.1", "tag-remote",
                "sip:trunk@127.0.0.1:5060", List.of("<sip:proxy.example.com;lr>"), 1,
                Instant.parse("2026-01-01T10:00:00Z"));
    }
}
