package dev.dialer.dispatcher.carrier.sip;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.dao.TransientDataAccessResourceException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A {@link DialogStore} in memory, for tests of the SIP flow itself (one carrier, no restart): it records what the
 * carrier kept, in order, so a test can check that calls are kept while they run and forgotten when they end.
 * Calls that must survive a restart are tested against PostgreSQL ({@code SipDialogRecoveryIT}); a call left by a
 * dispatcher that stopped ({@link #leave}) is handed out by {@link #claimOrphans} until it is forgotten, again each
 * time its lease is released.
 */
final class MemoryDialogStore implements DialogStore {

    private final Map<String, SipDialog> kept = new ConcurrentHashMap<>();
    private final List<SipDialog.State> saved = new CopyOnWriteArrayList<>();
    private final Set<String> hangUps = ConcurrentHashMap.newKeySet();
    private final Set<String> claimable = ConcurrentHashMap.newKeySet();
    private final AtomicInteger releases = new AtomicInteger();
    private final AtomicInteger renewals = new AtomicInteger();
    private final Map<SipDialog.State, AtomicInteger> failingUpdates = new ConcurrentHashMap<>();

    /** How long each save takes; it completes even when its caller gave up meanwhile, as a database statement does. */
    private volatile Duration saveTime = Duration.ZERO;

    void saveTakes(Duration time) {
        this.saveTime = time;
    }

    private final AtomicInteger saves = new AtomicInteger();
    private volatile int holdFrom = Integer.MAX_VALUE;
    private final CompletableFuture<Void> held = new CompletableFuture<>();

    /** Saves from the {@code n}th on (counting from 1) complete only once {@link #releaseHeldSaves} is called. */
    void holdSavesFrom(int n) {
        this.holdFrom = n;
    }

    void releaseHeldSaves() {
        held.complete(null);
    }

    @Override
    public Mono<Void> save(SipDialog dialog) {
        Runnable write = () -> {
            kept.put(dialog.callId(), dialog);
            saved.add(dialog.state());
        };
        if (saves.incrementAndGet() >= holdFrom) {
            return Mono.fromFuture(held.thenRun(write), true);
        }
        if (saveTime.isZero()) {
            return Mono.fromRunnable(write);
        }
        return Mono.fromFuture(CompletableFuture.runAsync(write,
                CompletableFuture.delayedExecutor(saveTime.toMillis(), TimeUnit.MILLISECONDS)), true);
    }

    /** The next {@code times} writes of a call in {@code state} fail, as during a database outage. */
    void failUpdatesOf(SipDialog.State state, int times) {
        failingUpdates.put(state, new AtomicInteger(times));
    }

    @Override
    public Mono<Boolean> update(SipDialog dialog) {
        return Mono.defer(() -> {
            AtomicInteger left = failingUpdates.get(dialog.state());
            return left != null && left.getAndDecrement() > 0
                    ? Mono.error(new TransientDataAccessResourceException("PostgreSQL is failing over"))
                    : save(dialog).thenReturn(true);
        });
    }

    @Override
    public Mono<Void> forget(String callId) {
        return Mono.fromRunnable(() -> {
            kept.remove(callId);
            hangUps.remove(callId);
            claimable.remove(callId);
        });
    }

    @Override
    public Mono<SipDialog> find(String callId) {
        return Mono.justOrEmpty(kept.get(callId));
    }

    @Override
    public Mono<SipDialog.State> requestHangUp(String callId) {
        return Mono.fromCallable(() -> {
            SipDialog dialog = kept.get(callId);
            if (dialog != null && dialog.state() != SipDialog.State.CONFIRMED) {
                hangUps.add(callId);
            }
            return dialog == null ? null : dialog.state();
        });
    }

    @Override
    public Flux<String> hangUpsRequested() {
        return Flux.defer(() -> Flux.fromIterable(List.copyOf(hangUps)));
    }

    @Override
    public Flux<String> renewLeases(Collection<String> running) {
        return Flux.defer(() -> {
            renewals.incrementAndGet();
            return Flux.empty();
        });
    }

    /** How often the leases were renewed. */
    int renewals() {
        return renewals.get();
    }

    @Override
    public Mono<Void> releaseLeases() {
        return Mono.empty();
    }

    @Override
    public Mono<Void> release(String callId) {
        return Mono.fromRunnable(() -> {
            releases.incrementAndGet();
            if (kept.containsKey(callId)) {
                claimable.add(callId);
            }
        });
    }

    @Override
    public Flux<SipDialog> claimOrphans(int limit) {
        return Flux.defer(() -> Flux.fromIterable(List.copyOf(claimable)))
                .filter(claimable::remove)
                .mapNotNull(kept::get)
                .take(limit);
    }

    /** A call kept by a dispatcher that stopped: the next {@link #claimOrphans} takes it over. */
    void leave(SipDialog orphan) {
        kept.put(orphan.callId(), orphan);
        claimable.add(orphan.callId());
    }

    /** How often a call's lease was given up ({@link #release}). */
    int releases() {
        return releases.get();
    }

    Map<String, SipDialog> kept() {
        return kept;
    }

    /** The states saved, in order. */
    List<SipDialog.State> saved() {
        return saved;
    }
}
