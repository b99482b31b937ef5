-- The delivery log says what became of each try and keeps the start of the endpoint's answer.
ALTER TABLE webhook.delivery_attempts
    ADD COLUMN event_type      text,
    ADD COLUMN target          text,
    ADD COLUMN outcome         text,
    ADD COLUMN response_body   text,
    ADD COLUMN next_attempt_at timestamptz,
    ADD COLUMN replay          boolean NOT NULL DEFAULT false;
CREATE INDEX delivery_attempts_time ON webhook.delivery_attempts (attempted_at);

-- Events as received, kept for replay (and for retries) until their retention ends.
CREATE TABLE webhook.events (
    event_id    text        PRIMARY KEY,
    account_id  text        NOT NULL,
    event_type  text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    payload     bytea       NOT NULL
);
CREATE INDEX events_account_time ON webhook.events (account_id, occurred_at);
CREATE INDEX events_received ON webhook.events (received_at);

-- Deliveries waiting for their next try: failed first tries, refused ones, held-back later events, replays.
-- A row is claimed by setting lease_until (FOR UPDATE SKIP LOCKED); a lease that runs out frees it again.
CREATE TABLE webhook.retries (
    id              bigserial   PRIMARY KEY,
    event_id        text        NOT NULL,
    event_type      text        NOT NULL,
    target_kind     text        NOT NULL,
    target_id       text        NOT NULL,
    url             text,
    method          text,
    request_id      text,
    account_id      text        NOT NULL,
    payload         bytea       NOT NULL,
    tries           integer     NOT NULL,
    order_key       text,
    hold_until      timestamptz,
    replay          boolean     NOT NULL DEFAULT false,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX retries_due ON webhook.retries (next_attempt_at);
CREATE INDEX retries_order ON webhook.retries (order_key, id) WHERE order_key IS NOT NULL;

-- Deliveries given up after their last try (or refused for good): kept, replayable.
CREATE TABLE webhook.dead_letters (
    id          bigserial   PRIMARY KEY,
    event_id    text        NOT NULL,
    event_type  text        NOT NULL,
    target_kind text        NOT NULL,
    target_id   text        NOT NULL,
    account_id  text        NOT NULL,
    request_id  text,
    tries       integer     NOT NULL,
    reason      text        NOT NULL,
    payload     bytea       NOT NULL,
    dead_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dead_letters_target ON webhook.dead_letters (target_id, dead_at);

-- Endpoint health per webhook: consecutive failures, and a disable that outlives restarts (api-service owns the
-- configuration topic, so the disable lives here until a newer configuration re-enables the webhook).
CREATE TABLE webhook.endpoint_state (
    webhook_id       text        PRIMARY KEY,
    failures         integer     NOT NULL DEFAULT 0,
    first_failure_at timestamptz,
    disabled_at      timestamptz,
    disabled_reason  text
);
