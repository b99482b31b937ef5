package dev.dialer.dispatcher.policy;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.dialer.common.contract.Contract;
import dev.dialer.common.contract.ContractSchema;
import dev.dialer.common.contract.DncEntry;
import dev.dialer.common.kafka.InboundRecord;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

class CompactedViewTest {

    private static final String CANONICAL = "+442071234567";
    /** The same London number with the national trunk 0 kept after the country code. */
    private static final String TRUNK_ZERO = "+4402071234567";

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<InboundRecord> topic = new ArrayList<>();

    @Test
    void aNumberListedUnderAnotherSpellingIsHeldUnderItsCanonicalKeyUntilItsOwnKeyIsRemoved() {
        put("acct:" + TRUNK_ZERO, entry(TRUNK_ZERO));
        CompactedView<DncEntry> view = read();

        assertThat(view.contains(DncEntry.key("acct", CANONICAL))).isTrue();
        assertThat(view.contains("acct:" + TRUNK_ZERO)).isFalse();
        assertThat(counter("dialer.dispatcher.policy.view.misfiled")).isEqualTo(1);

        remove(DncEntry.key("acct", CANONICAL));
        assertThat(read().contains(DncEntry.key("acct", CANONICAL)))
                .as("a tombstone of a key nobody wrote leaves the misfiled record's number listed").isTrue();

        remove("acct:" + TRUNK_ZERO);
        assertThat(read().contains(DncEntry.key("acct", CANONICAL))).isFalse();
    }

    @Test
    void aKeyNamedByTwoRecordsIsHeldUntilBothAreRemoved() {
        put(DncEntry.key("acct", CANONICAL), entry(CANONICAL));
        put("acct:" + TRUNK_ZERO, entry(TRUNK_ZERO));
        remove(DncEntry.key("acct", CANONICAL));
        assertThat(read().contains(DncEntry.key("acct", CANONICAL))).isTrue();

        remove("acct:" + TRUNK_ZERO);
        CompactedView<DncEntry> view = read();
        assertThat(view.contains(DncEntry.key("acct", CANONICAL))).isFalse();
        assertThat(registry.get("dialer.dispatcher.policy.view.size").gauge().value()).isZero();
    }

    @Test
    void aRecordRekeyedToTheCanonicalSpellingLeavesNoStaleAlias() {
        put("acct:" + TRUNK_ZERO, entry(TRUNK_ZERO));
        put("acct:" + TRUNK_ZERO, entry(CANONICAL));
        CompactedView<DncEntry> view = read();
        assertThat(view.contains(DncEntry.key("acct", CANONICAL))).isTrue();
        assertThat(registry.get("dialer.dispatcher.policy.view.size").gauge().value()).isEqualTo(1);
    }

    @Test
    void aValueItsSchemaRefusesIsCountedAndTheKeyKeepsItsValueAndANewKeyIsHeldListed() {
        put(DncEntry.key("acct", CANONICAL), entry(CANONICAL));
        // No added_at, and a number that is no E.164 number: the record parses, the schema refuses it.
        topic.add(record(DncEntry.key("acct", CANONICAL),
                "{\"version\":1,\"account_id\":\"acct\",\"number\":\"020 7123 4567\"}"));
        topic.add(record("acct:+15550100", "{\"version\":2,\"account_id\":\"acct\",\"number\":\"+15550100\","
                + "\"added_at\":\"2026-12-01T10:00:00Z\"}"));

        CompactedView<DncEntry> view = read();

        assertThat(view.get(DncEntry.key("acct", CANONICAL)).number()).isEqualTo(CANONICAL);
        assertThat(view.contains("acct:+15550100")).as("a later version's entry lists its number").isTrue();
        assertThat(counter("dialer.dispatcher.policy.view.unreadable")).isEqualTo(2);
    }

    @Test
    void aDispatcherStartedAfterCompactionHoldsAnUnreadableRecordsNumberListedAsOneRunningDoes() {
        String key = DncEntry.key("acct", CANONICAL);
        put(key, entry(CANONICAL));
        String unreadable = "{\"version\":1,\"account_id\":\"acct\",\"number\":\"020 7123 4567\"}";
        topic.add(record(key, unreadable));
        assertThat(read().contains(key)).as("running since before the bad record").isTrue();

        // Compaction keeps the key's last record only.
        topic.clear();
        topic.add(record(key, unreadable));
        assertThat(read().contains(key)).as("started after compaction").isTrue();

        remove(key);
        assertThat(read().contains(key)).as("a tombstone removes it").isFalse();
        topic.add(record(key, unreadable));
        put(key, entry(CANONICAL));
        remove(key);
        assertThat(read().contains(key)).as("a readable value, then a tombstone").isFalse();
    }

    @Test
    void aRecordWhoseValueNamesAnotherNumberHoldsBothUntilItsKeyIsRemoved() {
        // An outside writer's typo: the key names one number, the value another.
        String keyed = DncEntry.key("acct", CANONICAL);
        String named = DncEntry.key("acct", "+442071234568");
        put(keyed, entry("+442071234568"));
        CompactedView<DncEntry> view = read();
        assertThat(view.contains(named)).as("the value's number").isTrue();
        assertThat(view.contains(keyed)).as("the key's number, as an unreadable record of the key would hold")
                .isTrue();

        put(keyed, entry(CANONICAL));
        remove(keyed);
        view = read();
        assertThat(view.contains(keyed)).isFalse();
        assertThat(view.contains(named)).isFalse();
    }

    @Test
    void anUnreadableRecordTakesAwayWhatItsKeysMisfiledRecordHeldAsCompactionWould() {
        String keyed = DncEntry.key("acct", CANONICAL);
        String named = DncEntry.key("acct", "+442071234568");
        put(keyed, entry("+442071234568"));
        topic.add(record(keyed, "{\"version\":1,\"account_id\":\"acct\",\"number\":\"020 7123 4567\"}"));
        CompactedView<DncEntry> running = read();

        topic.subList(0, topic.size() - 1).clear();
        CompactedView<DncEntry> startedAfterCompaction = read();

        for (CompactedView<DncEntry> view : List.of(running, startedAfterCompaction)) {
            assertThat(view.contains(keyed)).isTrue();
            assertThat(view.contains(named)).isFalse();
        }
    }

    @Test
    void anUnreadableRecordKeyedInAnotherSpellingOfItsNumberHoldsTheNumberADialLooksUp() {
        // An outside writer's keys: a trunk prefix left in, and the international prefix instead of the +.
        String withTrunkZero = "acct:+4402071234567";
        String withPrefix = "acct:00442071234567";
        String looked = DncEntry.key("acct", "+442071234567");
        String unreadable = "{\"version\":2,\"account_id\":\"acct\",\"number\":\"+442071234567\"}";
        topic.add(record(withTrunkZero, unreadable));
        topic.add(record(withPrefix, unreadable));
        assertThat(read().contains(looked)).as("held under the key a dial looks up").isTrue();

        remove(withTrunkZero);
        assertThat(read().contains(looked)).as("still held by the other spelling's record").isTrue();
        remove(withPrefix);
        assertThat(read().contains(looked)).as("both tombstoned").isFalse();
    }

    @Test
    void anUnreadableRecordKeyedByDigitsAloneIsNotTakenForAnInternationalNumber() {
        // India's 06598765432 written without its country code: read as +65 98765432, it would spare a Singapore
        // number nobody listed. Held as it came, it spares no number a dial looks up.
        String unreadable = "{\"version\":2,\"account_id\":\"acct\",\"number\":\"6598765432\"}";
        topic.add(record("acct:6598765432", unreadable));

        CompactedView<DncEntry> view = read();

        assertThat(view.contains("acct:6598765432")).isTrue();
        assertThat(view.contains(DncEntry.key("acct", "+6598765432"))).isFalse();
    }

    @Test
    void aListedNumberWhoseEntryIsPublishedAgainNeverReadsAsUnlistedMeanwhile() throws Exception {
        // Its reason changed, or its list imported again: the same key, published again and again (now and then in a
        // form the schema refuses, or naming another number, either of which holds it listed), applied on the
        // reader's thread while the dial-time gate asks on another.
        String key = DncEntry.key("acct", CANONICAL);
        InboundRecord again = record(key, Contract.toJson(entry(CANONICAL)));
        InboundRecord unreadable = record(key, "{\"version\":1,\"account_id\":\"acct\",\"number\":\"020\"}");
        InboundRecord misfiled = record(key, Contract.toJson(entry("+442071234568")));
        List<InboundRecord> forms = List.of(again, unreadable, misfiled, misfiled, again, misfiled, unreadable);
        Sinks.Many<InboundRecord> records = Sinks.many().unicast().onBackpressureBuffer();
        CompactedView<DncEntry> view = new CompactedView<>("dnc", DncEntry.class,
                ContractSchema.of("schemas/dnc-entry.v1.json"), DncEntry::canonicalKey, records::asFlux,
                Mono.empty(), false, DncEntry::canonicalKeyOf, registry);
        CountDownLatch listed = new CountDownLatch(1);
        AtomicBoolean applying = new AtomicBoolean(true);
        AtomicLong looks = new AtomicLong();
        AtomicLong unlisted = new AtomicLong();
        Thread gate = new Thread(() -> {
            try {
                listed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            while (applying.get()) {
                looks.incrementAndGet();
                if (!view.contains(key)) {
                    unlisted.incrementAndGet();
                }
            }
        });
        gate.start();
        view.follow().subscribe();
        // Each unreadable record is logged: fifty thousand warnings say nothing here.
        Logger logger = (Logger) LoggerFactory.getLogger(CompactedView.class);
        Level level = logger.getLevel();
        logger.setLevel(Level.ERROR);
        try {
            records.tryEmitNext(again);
            listed.countDown();
            for (int n = 0; n < 140_000; n++) {
                records.tryEmitNext(forms.get(n % forms.size()));
            }
        } finally {
            applying.set(false);
            logger.setLevel(level);
        }
        gate.join(10_000);

        assertThat(looks.get()).as("the gate asked while the entry was published again").isPositive();
        assertThat(unlisted.get()).isZero();
    }

    @Test
    void aMisfiledOrUnreadableRecordIsLoggedWithoutItsNumber() {
        Logger logger = (Logger) LoggerFactory.getLogger(CompactedView.class);
        ListAppender<ILoggingEvent> written = new ListAppender<>();
        written.start();
        logger.addAppender(written);
        try {
            put("acct:" + TRUNK_ZERO, entry(TRUNK_ZERO));
            topic.add(record(DncEntry.key("acct", CANONICAL),
                    "{\"version\":1,\"account_id\":\"acct\",\"number\":\"020 7123 4567\"}"));
            read();
        } finally {
            logger.detachAppender(written);
        }

        assertThat(written.list).allSatisfy(line -> assertThat(line.getFormattedMessage())
                .as("a callee's number is not logged").doesNotContain("2071234567"));
        assertThat(written.list).filteredOn(line -> line.getLevel() == Level.WARN).extracting(ILoggingEvent::getMessage)
                .hasSize(2).allSatisfy(message -> assertThat(message).startsWith("{} record at {}-{}@{}"));
    }

    @Test
    void aReaderThatFailsIsCountedAndReadsItsTopicAgain() {
        put(DncEntry.key("acct", CANONICAL), entry(CANONICAL));
        AtomicLong reads = new AtomicLong();
        CompactedView<DncEntry> view = new CompactedView<>("dnc", DncEntry.class,
                ContractSchema.of("schemas/dnc-entry.v1.json"), DncEntry::canonicalKey,
                () -> reads.incrementAndGet() == 1 ? Flux.error(new IllegalStateException("not authorized to read"))
                        : Flux.fromIterable(List.copyOf(topic)), Mono.empty(), false, DncEntry::canonicalKeyOf,
                registry);

        view.follow().block(java.time.Duration.ofSeconds(10));

        assertThat(view.contains(DncEntry.key("acct", CANONICAL))).isTrue();
        assertThat(reads.get()).isEqualTo(2);
        assertThat(registry.get("dialer.dispatcher.policy.view.read.failures").tag("view", "dnc").counter().count())
                .isEqualTo(1);
    }

    /** The topic read into a view as the dispatcher's DNC view is made. */
    private CompactedView<DncEntry> read() {
        registry.clear();
        CompactedView<DncEntry> view = new CompactedView<>("dnc", DncEntry.class,
                ContractSchema.of("schemas/dnc-entry.v1.json"), DncEntry::canonicalKey,
                () -> Flux.fromIterable(List.copyOf(topic)), Mono.empty(), false, DncEntry::canonicalKeyOf, registry);
        view.follow().block();
        return view;
    }

    private double counter(String name) {
        return registry.get(name).counter().count();
    }

    private static DncEntry entry(String number) {
        return new DncEntry(DncEntry.VERSION, "acct", number, "asked", Instant.parse("2026-12-01T10:00:00Z"));
    }

    private void put(String key, DncEntry entry) {
        topic.add(record(key, Contract.toJson(entry)));
    }

    private void remove(String key) {
        topic.add(new InboundRecord("dialer.dnc", 0, topic.size(), key, null, Map.of(), () -> { }));
    }

    private InboundRecord record(String key, String json) {
        return new InboundRecord("dialer.dnc", 0, topic.size(), key, json.getBytes(StandardCharsets.UTF_8), Map.of(),
                () -> { });
    }
}
