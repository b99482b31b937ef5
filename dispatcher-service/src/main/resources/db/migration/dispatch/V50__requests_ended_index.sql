-- What the ledger's retention reads (LedgerRetention): ended requests, oldest end first. Partial, so requests in
-- progress are not in it; final_at is set once, by the statement that ends the request, which already writes a new
-- row version (final_status changes), so the index costs the dial path one entry per request and no update more.
-- Built without blocking writes (CONCURRENTLY: Flyway runs this script outside a transaction). A build that was
-- interrupted leaves an invalid index under this name and no history row, so the script runs again from the start:
-- it first drops what such a run left, which IF NOT EXISTS would otherwise keep.
DROP INDEX CONCURRENTLY IF EXISTS dispatch.requests_ended;
CREATE INDEX CONCURRENTLY IF NOT EXISTS requests_ended ON dispatch.requests (final_at) WHERE final_at IS NOT NULL;
