-- The calls read model: one row per request, one per attempt, built from dialer.call.events (and a 'queued' row
-- written when the API itself accepts a request, so a call just sent is found before its first event arrives).

CREATE TABLE api.calls (
    id              text        PRIMARY KEY,
    account_id      text        NOT NULL,
    campaign        text,
    foreign_id      text,
    caller_id       text        NOT NULL,
    callee          text        NOT NULL,
    -- the latest attempt status, 'deferred', or the final status once final_status is set
    status          text        NOT NULL,
    final_status    text,
    error_code      text,
    error_message   text,
    attempts_used   integer     NOT NULL DEFAULT 0,
    max_attempts    integer     NOT NULL DEFAULT 1,
    next_attempt_at timestamptz,
    -- the highest sequence_number applied: an older event never overwrites a newer one
    last_sequence   bigint      NOT NULL DEFAULT -1,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    finished_at     timestamptz
);

CREATE INDEX calls_account_created_idx ON api.calls (account_id, created_at DESC, id DESC);
CREATE INDEX calls_account_campaign_idx ON api.calls (account_id, campaign, created_at DESC, id DESC);
CREATE INDEX calls_account_foreign_idx ON api.calls (account_id, foreign_id);

CREATE TABLE api.call_attempts (
    call_id          text        NOT NULL REFERENCES api.calls (id) ON DELETE CASCADE,
    number           integer     NOT NULL,
    account_id       text        NOT NULL,
    callee           text        NOT NULL,
    status           text        NOT NULL,
    provider_status  text,
    provider_call_id text,
    sip_status       integer,
    sip_reason       text,
    answered_by      text,
    duration_seconds integer,
    last_sequence    bigint      NOT NULL,
    started_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    ended_at         timestamptz,
    PRIMARY KEY (call_id, number)
);

-- The per-callee cap counts attempts to one number in the last 24 hours.
CREATE INDEX call_attempts_callee_idx ON api.call_attempts (account_id, callee, started_at);

-- Event ids already applied: a redelivered event changes nothing. Pruned after the topic's retention.
CREATE TABLE api.call_events_applied (
    event_id   text        PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX call_events_applied_at_idx ON api.call_events_applied (applied_at);

-- A campaign's latest control (pause, resume, cancel) as published by the API, shown with its progress.
CREATE TABLE api.campaign_states (
    account_id text        NOT NULL,
    campaign   text        NOT NULL,
    state      text        NOT NULL,
    control_id text        NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, campaign)
);
