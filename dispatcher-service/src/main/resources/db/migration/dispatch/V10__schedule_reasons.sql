-- Every wait lives in dispatch.schedule: retries, capacity requeues, parked lane overflow, calling windows, paused
-- campaigns and per-callee caps. The constraint names the reasons rather than leaving the column free.
ALTER TABLE dispatch.schedule DROP CONSTRAINT IF EXISTS schedule_reason_check;
ALTER TABLE dispatch.schedule ADD CONSTRAINT schedule_reason_check
    CHECK (reason IN ('retry', 'capacity', 'parked', 'window', 'paused', 'cap'));

-- Set while an attempt the carrier rejected for capacity waits to be dialled again under the same number: the
-- command that comes back for it may claim the attempt once, which a redelivered copy then cannot.
ALTER TABLE dispatch.attempts ADD COLUMN requeued boolean NOT NULL DEFAULT false;
