-- The controls of a request, found by the ledger's retention when it deletes the request (decision 0164). Partial:
-- a campaign's controls name no request.
-- Built without blocking writes (CONCURRENTLY: Flyway runs this script outside a transaction); a build whose process
-- stopped leaves an invalid index under this name and no history row, so the script first drops what such a run left.
DROP INDEX CONCURRENTLY IF EXISTS dispatch.applied_controls_request;
CREATE INDEX CONCURRENTLY IF NOT EXISTS applied_controls_request
    ON dispatch.applied_controls (request_id) WHERE request_id IS NOT NULL;
