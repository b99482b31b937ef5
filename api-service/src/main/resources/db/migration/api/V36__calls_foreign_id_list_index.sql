-- GET /api/v2/calls?foreign_id= lists the calls of one reference newest first. A send's foreign_id goes to each of
-- its recipients (up to 1,000), and a reference reused across sends (a CRM campaign code) gathers many calls over the
-- read model's retention; the only index with foreign_id (V15) holds no created_at, so each page read every call of
-- the reference and sorted them, or walked the account's calls dropping every other one: paging through N calls cost
-- some N²/limit rows. This index serves the filter read backwards in the list's order without a sort, as the other
-- list indexes are (decision 0083), and replaces V15's: its first two columns serve the lookups by foreign_id (the
-- claims of a send's foreign ids, the purge) as V15's did.
-- Built without blocking writes (CONCURRENTLY: Flyway runs the script outside a transaction); a build that was
-- interrupted leaves an invalid index under the name and no history row, so the script first drops what such a run
-- left.
DROP INDEX CONCURRENTLY IF EXISTS api.calls_account_foreign_created_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS calls_account_foreign_created_idx
    ON api.calls (account_id, foreign_id, created_at, id) WHERE foreign_id IS NOT NULL;
DROP INDEX CONCURRENTLY IF EXISTS api.calls_account_foreign_idx;
