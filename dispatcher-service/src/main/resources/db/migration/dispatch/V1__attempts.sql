-- What the dispatcher was asked to do, one row per request; the first command seen for a request id wins.
CREATE TABLE dispatch.requests (
    request_id    text        PRIMARY KEY,
    account_id    text        NOT NULL,
    caller_id     text        NOT NULL,
    -- The command as received, variables included: the callback path rebuilds events from it.
    command       jsonb       NOT NULL,
    -- Last sequence_number handed out for this request's events (monotonic across attempts).
    next_sequence bigint      NOT NULL DEFAULT 0,
    -- Set once, by whoever publishes the request's single call.final event.
    final_status  text,
    final_at      timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The attempt ledger: a row exists before the carrier is asked, so a redelivered command never dials twice.
CREATE TABLE dispatch.attempts (
    request_id       text        NOT NULL REFERENCES dispatch.requests (request_id),
    attempt_no       integer     NOT NULL,
    status           text        NOT NULL,
    provider_call_id text,
    provider_status  text,
    sip_status       integer,
    sip_reason       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, attempt_no)
);
