-- GET /api/v2/calls?status= lists an account's calls of one status, newest first. No index led with the status, so
-- the list read the account's (created_at, id) index backwards and dropped every call of another status: a rare
-- status (a few blocked calls among a million answered) read the whole account to fill a page, or to find it empty.
-- This index serves the filter as the other list indexes serve theirs: ascending, read backwards in the list's order
-- without a sort (decision 0083). It costs each call one more index entry when its row is written and at each change
-- of its status, the price of a filtered page that reads only what it shows.
-- Built without blocking writes (CONCURRENTLY: Flyway runs the script outside a transaction); a build that was
-- interrupted leaves an invalid index under the name and no history row, so the script first drops what such a run
-- left.
DROP INDEX CONCURRENTLY IF EXISTS api.calls_account_status_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS calls_account_status_idx ON api.calls (account_id, status, created_at, id);
