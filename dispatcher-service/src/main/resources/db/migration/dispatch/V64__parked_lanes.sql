-- The due times of the records each caller ID's lane parked (dispatch.schedule, reason 'parked'), one row per caller
-- ID: the earliest that may still wait and the last. A dispatcher that gains a commands partition reads them, so that
-- what arrives for a caller ID whose parked records have not all come back yet is parked behind them, as it would have
-- been on the partition's previous owner, instead of being dialled first. Written with each parking batch; rows whose
-- last due time is a day past are deleted when a dispatcher reads them.
CREATE TABLE dispatch.parked_lanes (
    caller_id    text PRIMARY KEY,
    first_due_at timestamptz NOT NULL,
    last_due_at  timestamptz NOT NULL
);
