-- The indexes of live attempts built on the live column (V61, decision 0143), so that no index of dispatch.attempts
-- names the status or the time of the last news (updated_at), which change at every callback; V63 drops the ones they
-- replace, once these are built:
-- - attempts_live_a_request replaces attempts_one_live (V60): at most one live attempt a request. The old index keeps
--   the rule while this one builds.
-- - attempts_live_by_ask replaces attempts_open_by_news (V30): the watchdog claims attempts asked of the carrier and
--   quiet since before its horizon; every such attempt was asked before it too, so it scans the live ones asked
--   before the horizon, few, and reads their last news from the row.
-- Built without blocking writes (CONCURRENTLY: Flyway runs this script outside a transaction). A build whose process
-- stopped leaves an invalid index under its name and no history row, so the script runs again from the start: it
-- first drops what such a run left, which IF NOT EXISTS would otherwise keep. A build that failed with an error is
-- recorded as failed, and the service does not start until `flyway repair` has removed that record.
DROP INDEX CONCURRENTLY IF EXISTS dispatch.attempts_live_a_request;
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS attempts_live_a_request ON dispatch.attempts (request_id) WHERE live;
DROP INDEX CONCURRENTLY IF EXISTS dispatch.attempts_live_by_ask;
CREATE INDEX CONCURRENTLY IF NOT EXISTS attempts_live_by_ask ON dispatch.attempts (carrier_asked_at)
    WHERE live AND carrier_asked_at IS NOT NULL;
