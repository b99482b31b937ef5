-- Ended calls are deleted once their end is older than dialer.api.read-model.retention (decision 0105), oldest first,
-- a batch at a time: this index finds them without reading the calls still going on. Built without blocking writes
-- (CONCURRENTLY: Flyway runs the script outside a transaction); a build that was interrupted leaves an invalid index
-- under the name and no history row, so the script first drops what such a run left.
DROP INDEX CONCURRENTLY IF EXISTS api.calls_ended_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS calls_ended_idx ON api.calls (finished_at) WHERE final_status IS NOT NULL;
