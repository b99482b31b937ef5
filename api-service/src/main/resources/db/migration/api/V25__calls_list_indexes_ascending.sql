-- The two list indexes of api.calls were declared descending (created_at DESC, id DESC), the order the list is read
-- in. PostgreSQL reads a B-tree backwards as cheaply as forwards, so the order never needed the declaration, and it
-- made every insertion costly: accepted calls arrive in rising (created_at, id) order (ids sent without a key are
-- time-ordered), which a descending index places at the left edge of the account's range, so each row landed in the
-- middle of the tree and leaf pages split in halves. Ascending, they append at the right edge. Measured on PostgreSQL
-- 15 with 1,000-row statements: 7.5-8.4 µs of server time per accepted row before, 5.4-5.6 after.
-- Built without blocking writes (CONCURRENTLY: Flyway runs this script outside a transaction); the old indexes are
-- dropped once the new ones exist, so the list is served throughout. A build that was interrupted (the service stopped
-- mid-way) leaves an invalid index under the new name and no history row, so the script runs again from the start:
-- it first drops what such a run left, which it would otherwise keep (IF NOT EXISTS checks only the name).
DROP INDEX CONCURRENTLY IF EXISTS api.calls_account_created_asc_idx;
DROP INDEX CONCURRENTLY IF EXISTS api.calls_account_campaign_asc_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS calls_account_created_asc_idx ON api.calls (account_id, created_at, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS calls_account_campaign_asc_idx ON api.calls (account_id, campaign, created_at, id);
DROP INDEX CONCURRENTLY IF EXISTS api.calls_account_created_idx;
DROP INDEX CONCURRENTLY IF EXISTS api.calls_account_campaign_idx;
