-- Set when a cancel (of the request or its campaign) reached the dispatcher. From then on no attempt of the request
-- is recorded (so none is dialled), and the end of an attempt in flight means canceled, not no-answer.
ALTER TABLE dispatch.requests ADD COLUMN cancel_requested_at timestamptz;

-- The per-callee cap counts an account's attempts to one number in the last 24 hours, across campaigns.
CREATE INDEX requests_callee ON dispatch.requests (account_id, (command ->> 'to'));
CREATE INDEX attempts_created_at ON dispatch.attempts (request_id, created_at);

-- A campaign's unfinished requests, found by a campaign cancel.
CREATE INDEX requests_open_campaign ON dispatch.requests (account_id, (command ->> 'campaign'))
    WHERE final_status IS NULL;

-- A campaign's waiting calls, released by a resume.
CREATE INDEX schedule_campaign ON dispatch.schedule ((command ->> 'account_id'), (command ->> 'campaign'));

-- Controls (cancel, pause, resume) already acted upon. The compacted topic is read from its beginning at every start;
-- this keeps an old cancel from being acted upon again, and lets one dispatcher act on each control.
CREATE TABLE dispatch.applied_controls (
    control_id text        PRIMARY KEY,
    outcome    text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
