package dev.dialer.dispatcher.carrier.sip;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.dispatcher.DispatcherOnDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * Kept SIP calls on the real PostgreSQL: a call held under a live lease is nobody else's; once its holder gives the
 * lease up or lets it lapse, carriers claiming at the same moment never get the same call.
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
        holder.renewLeases().block(WAIT);

        assertThat(mine(store("other-" + batch).claimOrphans(1000), batch)).as("renewed").isEmpty();

        backdate(batch, "2 seconds");
        DialogStore next = store("next-" + batch);
        assertThat(mine(next.claimOrphans(1000), batch)).containsExactly(batch + "-0");
        next.forget(batch + "-0").block(WAIT);
        assertThat(next.find(batch + "-0").blockOptional(WAIT)).isEmpty();
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
        return new SipDialog(callId, "req-" + callId, 1, "127.0.0.1:5060/udp", SipDialog.State.CONFIRMED,
                "sip:+4915112345678@127.0.0.1:5060;transport=udp", "z9hG4bK" + callId.hashCode(), "127.0.0.1", 5062,
                "sip:+4930123456@127.0.0.1", "tag-local", "sip:+4915112345678@127.0.0.1", "tag-remote",
                "sip:trunk@127.0.0.1:5060", List.of("<sip:proxy.example.com;lr>"), 1,
                Instant.parse("2026-01-01T10:00:00Z"));
    }
}
