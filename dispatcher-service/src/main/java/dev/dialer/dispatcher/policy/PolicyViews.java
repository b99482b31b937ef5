package dev.dialer.dispatcher.policy;

import dev.dialer.common.contract.AccountSettings;
import dev.dialer.common.contract.AccountSettings.CallingWindow;
import dev.dialer.common.contract.CallControl;
import dev.dialer.common.contract.ContractSchema;
import dev.dialer.common.contract.DncEntry;
import dev.dialer.common.kafka.CompactedTopicReader;
import dev.dialer.common.kafka.KafkaSettings;
import dev.dialer.common.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * What the dial-time policy knows from the compacted topics, each read in full by every dispatcher: the DNC list
 * ({@code dialer.dnc}), account settings ({@code dialer.account.config}) and call controls
 * ({@code dialer.call.control}: cancelled requests, cancelled, paused and resumed campaigns).
 *
 * <p>Memory: the views hold one entry per live key. Account settings and campaign controls are few; DNC entries and
 * request cancels grow with customers' lists (about 300 bytes each: a million DNC numbers take some 300 MB of heap);
 * a request's cancel is removed from the topic once the request has ended ({@link CancelSweep}).
 * Size the heap with {@code dialer.dispatcher.policy.view.size}; lists far beyond that belong in a table, not in every
 * dispatcher's memory.
 *
 * <p>Each view's age is looked at while it is followed ({@link ViewFreshness}): a view that stopped receiving says so.
 */
@Component
class PolicyViews {

    /** How long one look at a view's age waits for the view to read to where its topic ended. */
    private static final Duration LOOK_PATIENCE = Duration.ofMinutes(5);

    private final List<ViewFreshness> freshness = new ArrayList<>();
    private final Clock clock;
    private final Duration lookEvery;
    private final CompactedView<DncEntry> dnc;
    private final CompactedView<AccountSettings> settings;
    private final CompactedView<CallControl> controls;
    /** {@code dialer.dispatcher.policy.default-calling-window}, parsed once. */
    private final CallingWindow defaultWindow;

    PolicyViews(KafkaSettings kafka, PolicyProperties properties, Clock clock, MeterRegistry registry) {
        this.clock = clock;
        this.lookEvery = properties.viewLook();
        this.defaultWindow = properties.defaultWindow();
        // A DNC record that cannot be read still lists its key: the number is not called.
        // An unreadable DNC record holds its number listed, under the key a dial looks up whatever its own spelling.
        this.dnc = view("dnc", DncEntry.class, "dnc-entry", DncEntry::canonicalKey, Topics.DNC, false,
                DncEntry::canonicalKeyOf, kafka, registry);
        this.settings = view("account-settings", AccountSettings.class, "account-settings", AccountSettings::accountId,
                Topics.ACCOUNT_CONFIG, false, null, kafka, registry);
        this.controls = view("call-control", CallControl.class, "call-control", CallControl::key,
                Topics.CALL_CONTROL, true, null, kafka, registry);
    }

    /** The view of {@code topic}, its values read against {@code schemas/<schema>.v1.json}, and its age. */
    private <V> CompactedView<V> view(String name, Class<V> type, String schema, Function<V, String> keyOf,
                                      String topic, boolean announces, UnaryOperator<String> unreadableHeldAs,
                                      KafkaSettings kafka, MeterRegistry registry) {
        CompactedTopicReader reader = new CompactedTopicReader(kafka, topic);
        freshness.add(new ViewFreshness(name, reader::readToNow, clock, lookEvery, LOOK_PATIENCE, Schedulers.parallel(),
                registry));
        return new CompactedView<>(name, type, ContractSchema.of("schemas/" + schema + ".v1.json"), keyOf,
                reader::records, reader.caughtUp(), announces, unreadableHeldAs, registry);
    }

    /** Reads the three topics until cancelled, and looks at how current each view is. */
    Mono<Void> follow() {
        return Mono.when(dnc.follow(), settings.follow(), controls.follow(),
                Flux.fromIterable(freshness).flatMap(ViewFreshness::run).then());
    }

    /** Per view, the seconds since it was last known to hold everything on its topic. */
    Map<String, Long> staleness() {
        Map<String, Long> seconds = new LinkedHashMap<>();
        freshness.forEach(view -> seconds.put(view.view(), view.stalenessSeconds()));
        return seconds;
    }

    /** Completes once all three topics have been read up to where they ended when reading began. */
    Mono<Void> ready() {
        return Mono.when(dnc.caughtUp(), settings.caughtUp(), controls.caughtUp());
    }

    boolean isReady() {
        return dnc.isCaughtUp() && settings.isCaughtUp() && controls.isCaughtUp();
    }

    boolean onDncList(String accountId, String number) {
        return dnc.contains(DncEntry.key(accountId, number));
    }

    /**
     * The account's settings; the service defaults when it wrote none. A missing account window is replaced by
     * {@code dialer.dispatcher.policy.default-calling-window}.
     */
    AccountSettings settingsOf(String accountId) {
        AccountSettings written = settings.get(accountId);
        AccountSettings known = written == null ? AccountSettings.defaults(accountId) : written;
        if (known.callingWindow() != null) {
            return known;
        }
        return known.withCallingWindow(defaultWindow);
    }

    /** The request's cancel, if one was issued. */
    CallControl requestControl(String requestId) {
        return controls.get(CallControl.requestKey(requestId));
    }

    /** The requests that have a cancel in the view. */
    List<String> cancelledRequests() {
        String prefix = CallControl.requestKey("");
        return controls.keysStartingWith(prefix).stream().map(key -> key.substring(prefix.length())).toList();
    }

    /** The campaign's latest control (cancel, pause or resume), if any. */
    CallControl campaignControl(String accountId, String campaign) {
        return campaign == null ? null : controls.get(CallControl.campaignKey(accountId, campaign));
    }

    /** Every control read, from the topic's beginning; one subscriber ({@link ControlApplier}). */
    Flux<CallControl> controls() {
        return controls.applied();
    }
}
