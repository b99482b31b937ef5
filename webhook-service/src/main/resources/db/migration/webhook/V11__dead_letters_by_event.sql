-- What a delivery given up on its first try reads before it is written (RetryStore.DEAD_LETTER, NOT EXISTS on
-- target_id, event_id, target_kind and tries): the only indexes name target_id and dead_at, or dead_at alone, and a
-- hook's target_id is its kind's tag ("notify", "action", "amd") for every account, so each such dead letter of a hook
-- read every account's dead letters of that kind kept for the retention (30 days): after one endpoint's long outage,
-- millions of rows, past the statement's time-out, and the event's partition stopped until it was found.
-- Built without blocking writes, as V9; a build that was interrupted is dropped and made again.
DROP INDEX CONCURRENTLY IF EXISTS webhook.dead_letters_event;
CREATE INDEX CONCURRENTLY IF NOT EXISTS dead_letters_event ON webhook.dead_letters (event_id, target_kind, target_id);
