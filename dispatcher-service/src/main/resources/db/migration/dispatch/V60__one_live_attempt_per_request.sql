-- At most one live attempt per request, kept by PostgreSQL itself. Recording a new attempt checks that no other
-- attempt of its request is live (AttemptLedger, WHILE_OPEN_WITHOUT_LIVE_ATTEMPT), but that check reads the statement's
-- snapshot: two commands of one request with different attempt numbers (an upstream producer's), run at once, each
-- waited for the request's lock, then found no live attempt and recorded theirs, and the person was called twice at
-- once. With this index the second insert conflicts and records nothing (ON CONFLICT DO NOTHING).
-- Built without blocking writes (CONCURRENTLY: Flyway runs this script outside a transaction). An interrupted build
-- leaves an invalid index under this name and no history row, so the script first drops what such a run left. A
-- database holding two live attempts of one request already fails the build, naming the request; end the later one
-- (status 'failed') and start the dispatcher again.
DROP INDEX CONCURRENTLY IF EXISTS dispatch.attempts_one_live;
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS attempts_one_live ON dispatch.attempts (request_id)
    WHERE status IN ('queued', 'initiated', 'ringing', 'in-progress');
