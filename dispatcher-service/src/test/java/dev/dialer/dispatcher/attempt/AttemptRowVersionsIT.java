package dev.dialer.dispatcher.attempt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.dialer.common.contract.AttemptStatus;
import dev.dialer.common.contract.CallCommand;
import dev.dialer.dispatcher.DispatcherOnDatabase;
import dev.dialer.dispatcher.event.CallEvents;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * The status changes of a live attempt (initiated, ringing, in-progress) write their row's new version on its page and
 * no index entry (a heap-only tuple, decision 0143): no index of {@code dispatch.attempts} names a column they change,
 * and the table leaves room on its pages. Read from the page itself (pageinspect), on the real PostgreSQL.
 */
class AttemptRowVersionsIT extends DispatcherOnDatabase {

    /** {@code HEAP_ONLY_TUPLE} of a tuple's {@code t_infomask2}: the version has no index entry of its own. */
    private static final int HEAP_ONLY_TUPLE = 0x8000;

    @Autowired
    AttemptLedger attempts;

    @Autowired
    CallEvents events;

    @BeforeEach
    void pageInspect() {
        db.sql("CREATE EXTENSION IF NOT EXISTS pageinspect").then().block(WAIT);
    }

    @Test
    void aLiveAttemptsStatusChangesStayOnTheirPageWithoutIndexEntriesAndItsEndDoesNot() {
        CallCommand command = new CallCommand(1, "rv-" + UUID.randomUUID(), "acc-versions", "+4930555004",
                "+4915112340301", null, "a.wav", null, 0, 3, 1, null, null, null, null, null, null, null, null,
                Instant.now());
        String id = command.requestId();
        attempts.record(command).block(WAIT);
        assertThat(attempts.claimDial(id, 1).block(WAIT)).isEqualTo(1);
        attempts.storeProviderCallId(id, 1, 1, "sid-rv").block(WAIT);
        assertThat(heapOnly(id)).as("the call's id is indexed (attempts_by_call): a new entry").isFalse();

        for (AttemptStatus status : new AttemptStatus[] {AttemptStatus.INITIATED, AttemptStatus.RINGING,
                AttemptStatus.IN_PROGRESS}) {
            Transition change = new Transition(id, 1, status, status.wire(), "sid-rv", null, null, 1);
            assertThat(events.emitOn(command, attempts.transitionChange(change), event -> event.status(status))
                    .blockOptional(WAIT)).as("%s applied", status).isPresent();
            assertThat(heapOnly(id)).as("%s: a heap-only version", status).isTrue();
        }

        // The end makes the attempt no longer live, which the live attempts' indexes name.
        assertThat(attempts.transitionAndSchedule(new Transition(id, 1, AttemptStatus.BUSY, "busy", "sid-rv",
                486, "Busy Here", 1), 2, Instant.now().plusSeconds(3600)).blockOptional(WAIT)).isPresent();
        assertThat(heapOnly(id)).as("the end: new index entries").isFalse();
    }

    /** Whether the attempt's current version is heap-only, read from its page. */
    private boolean heapOnly(String requestId) {
        return db.sql("""
                        SELECT t.t_infomask2 & $2 <> 0
                          FROM dispatch.attempts a,
                               heap_page_items(get_raw_page('dispatch.attempts', (a.ctid::text::point)[0]::integer)) t
                         WHERE a.request_id = $1 AND a.attempt_no = 1 AND t.lp = (a.ctid::text::point)[1]::integer""")
                .bind(0, requestId)
                .bind(1, HEAP_ONLY_TUPLE)
                .map(row -> row.get(0, Boolean.class))
                .one()
                .block(WAIT);
    }
}
