-- Every kind of wait shares dispatch.schedule: retries, capacity requeues, parked lane overflow, calling windows,
-- paused campaigns and the per-callee cap. The constraint is named so that any migration widening or narrowing the
-- list can replace it idempotently.
ALTER TABLE dispatch.schedule DROP CONSTRAINT IF EXISTS schedule_reason_check;
ALTER TABLE dispatch.schedule ADD CONSTRAINT schedule_reason_check
    CHECK (reason IN ('retry', 'capacity', 'parked', 'window', 'paused', 'cap'));
