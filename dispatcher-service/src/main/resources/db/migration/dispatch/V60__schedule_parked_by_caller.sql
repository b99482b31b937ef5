-- A lane's parked rows, by caller ID: a lane whose parked records come back faster than it can start them moves the
-- ones still waiting later as one (ParkingLot.postpone), which reads them here rather than the whole schedule.
-- Built without blocking writes (CONCURRENTLY: Flyway runs this script outside a transaction). A build whose process
-- stopped leaves an invalid index under this name and no history row, so the script runs again from the start: it
-- first drops what such a run left, which IF NOT EXISTS would otherwise keep. A build that failed with an error is
-- recorded as failed, and the service does not start until `flyway repair` has removed that record.
DROP INDEX CONCURRENTLY IF EXISTS dispatch.schedule_parked_caller;
CREATE INDEX CONCURRENTLY IF NOT EXISTS schedule_parked_caller
    ON dispatch.schedule ((command ->> 'caller_id')) WHERE reason = 'parked' AND lease_until IS NULL;
