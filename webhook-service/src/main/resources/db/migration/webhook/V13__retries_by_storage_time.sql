-- What the retry poller's expiry reads (RetryStore.claimHeldStoredBefore, every refusal delay while an endpoint is
-- shut): the rows of shut endpoints stored before the retry schedule's span, the oldest first. Without it each read
-- went through every waiting retry, and the table is largest exactly when an endpoint has been down for days.
-- Built without blocking writes (CONCURRENTLY: Flyway runs this script outside a transaction): retries stored, claimed
-- and settled meanwhile are still written. A build that was interrupted leaves an invalid index under this name and
-- no history row, so the script runs again from the start: it first drops what such a run left, which IF NOT EXISTS
-- would otherwise keep.
DROP INDEX CONCURRENTLY IF EXISTS webhook.retries_stored;
CREATE INDEX CONCURRENTLY IF NOT EXISTS retries_stored ON webhook.retries (created_at);
