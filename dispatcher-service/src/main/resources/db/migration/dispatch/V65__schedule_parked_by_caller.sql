-- Each caller ID's parked rows in due order, for a lane to find the gaps its parked backlog has been left with
-- (decision 0154): a cancel or a calling window takes rows out of a lane's parked backlog, and the lane, which parks
-- what arrives behind the last due time it handed out, would otherwise hold a caller ID's new calls behind a backlog
-- that is no longer there. Partial: only parked rows are read by caller ID.
-- Built without blocking writes (CONCURRENTLY: Flyway runs this script outside a transaction); a build whose process
-- stopped leaves an invalid index under this name and no history row, so the script first drops what such a run left.
DROP INDEX CONCURRENTLY IF EXISTS dispatch.schedule_parked_by_caller;
CREATE INDEX CONCURRENTLY IF NOT EXISTS schedule_parked_by_caller
    ON dispatch.schedule ((command ->> 'caller_id'), due_at, request_id COLLATE "C", attempt_no)
    WHERE reason = 'parked';
