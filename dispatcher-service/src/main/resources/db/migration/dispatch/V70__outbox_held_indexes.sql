-- The outbox's indexes for held events (decision 0169).
-- Built without blocking writes (CONCURRENTLY: Flyway runs this script outside a transaction); a build whose process
-- stopped leaves an invalid index under its name and no history row, so the script first drops what such a run left.

-- What the relay reads: the unsent rows not held, oldest first (held rows stay out of its way however many they are).
DROP INDEX CONCURRENTLY IF EXISTS dispatch.outbox_unsent_free;
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbox_unsent_free
    ON dispatch.outbox (id) WHERE sent_at IS NULL AND held_partition IS NULL;
-- A stalled partition's held rows, oldest first: tried again and freed a batch at a time.
DROP INDEX CONCURRENTLY IF EXISTS dispatch.outbox_held;
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbox_held
    ON dispatch.outbox (held_partition, id) WHERE held_partition IS NOT NULL;
-- Whether an event's request has an earlier event held: it is held behind it.
DROP INDEX CONCURRENTLY IF EXISTS dispatch.outbox_held_requests;
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbox_held_requests
    ON dispatch.outbox (request_id, id) WHERE held_partition IS NOT NULL;
