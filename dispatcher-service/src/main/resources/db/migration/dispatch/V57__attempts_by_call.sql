-- Attempts by the carrier's id of their call (AttemptLedger.attemptOfCall): a Voice Gateway callback whose tag the
-- call's application replaced (jambonz's tag verb rewrites customerData) names its call only by call_sid. Partial:
-- attempts not placed yet, and those waiting to be dialled again, know no call. One entry per dial that stored its
-- call's id.
-- Built without blocking writes (CONCURRENTLY: Flyway runs this script outside a transaction). A build that was
-- interrupted leaves an invalid index under this name and no history row, so the script runs again from the start:
-- it first drops what such a run left, which IF NOT EXISTS would otherwise keep.
DROP INDEX CONCURRENTLY IF EXISTS dispatch.attempts_by_call;
CREATE INDEX CONCURRENTLY IF NOT EXISTS attempts_by_call ON dispatch.attempts (provider_call_id)
    WHERE provider_call_id IS NOT NULL;
