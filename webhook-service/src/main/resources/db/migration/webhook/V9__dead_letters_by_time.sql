-- What the dead-letter purge reads (RetryStore.purgeDeadLetters, DELETE ... WHERE dead_at < :before, every purge
-- interval): dead letters past their retention, by age alone. The only index with dead_at has target_id first, which a
-- condition on dead_at alone cannot range over, so every purge read the whole table: a retention's worth (30 days) of
-- every delivery given up. One entry per dead letter, written once.
-- Built without blocking writes (CONCURRENTLY: Flyway runs this script outside a transaction): a delivery given up
-- meanwhile is still written. A build that was interrupted leaves an invalid index under this name and no history row,
-- so the script runs again from the start: it first drops what such a run left, which IF NOT EXISTS would otherwise
-- keep.
DROP INDEX CONCURRENTLY IF EXISTS webhook.dead_letters_time;
CREATE INDEX CONCURRENTLY IF NOT EXISTS dead_letters_time ON webhook.dead_letters (dead_at);
