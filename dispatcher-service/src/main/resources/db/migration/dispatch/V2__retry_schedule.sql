-- Attempts that wait to be made: a retry is a row here, never only a timer in memory, so a restart loses none.
-- Written in the same statement that ends the previous attempt; deleted once the attempt's command is on Kafka.
CREATE TABLE dispatch.schedule (
    request_id  text        NOT NULL REFERENCES dispatch.requests (request_id),
    -- The attempt to run when the row is due.
    attempt_no  integer     NOT NULL,
    -- Never early: the previous attempt's end plus the request's interval.
    due_at      timestamptz NOT NULL,
    reason      text        NOT NULL CHECK (reason IN ('retry')),
    -- The command to publish (as first received; the attempt number is set when it fires).
    command     jsonb       NOT NULL,
    -- Set while a dispatcher is firing the row; a lapsed lease lets another take it over.
    lease_until timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, attempt_no)
);

CREATE INDEX schedule_due_at ON dispatch.schedule (due_at);
