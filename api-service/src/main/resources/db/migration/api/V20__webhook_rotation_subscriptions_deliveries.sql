-- Secret rotation and disabling of webhooks, account subscriptions, and the delivery log read model.

-- During a rotation webhook-service signs with both secrets until previous_secret_expires_at.
ALTER TABLE api.webhooks
    ADD COLUMN previous_secret            text,
    ADD COLUMN previous_secret_expires_at timestamptz,
    ADD COLUMN disabled_reason            text;

-- A subscription delivers an account's events of the given types to one of its webhooks. Deleting the webhook
-- deletes its subscriptions (the service publishes their tombstones in the same transaction).
CREATE TABLE api.subscriptions (
    id          text        PRIMARY KEY,
    account_id  text        NOT NULL REFERENCES api.accounts (id),
    webhook_id  text        NOT NULL REFERENCES api.webhooks (id) ON DELETE CASCADE,
    event_types text[]      NOT NULL,
    enabled     boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE INDEX subscriptions_account_idx ON api.subscriptions (account_id, created_at);
CREATE INDEX subscriptions_webhook_idx ON api.subscriptions (webhook_id);

-- One row per delivery attempt read from dialer.webhook.deliveries; attempt_id makes re-reading a record harmless.
-- No foreign key to api.webhooks: the log of a deleted webhook is still readable by nobody, and attempts may arrive
-- before or after the webhook's own row changes.
CREATE TABLE api.webhook_deliveries (
    attempt_id        text        PRIMARY KEY,
    account_id        text        NOT NULL,
    webhook_id        text        NOT NULL,
    event_id          text        NOT NULL,
    event_type        text,
    target            text        NOT NULL,
    request_id        text,
    attempt_no        integer     NOT NULL,
    outcome           text        NOT NULL,
    status_code       integer,
    error             text,
    response_body     text,
    latency_ms        bigint      NOT NULL,
    next_attempt_at   timestamptz,
    endpoint_disabled boolean     NOT NULL DEFAULT false,
    replay            boolean     NOT NULL DEFAULT false,
    attempted_at      timestamptz NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhook_deliveries_page_idx ON api.webhook_deliveries (webhook_id, attempted_at DESC, attempt_id DESC);
CREATE INDEX webhook_deliveries_event_idx ON api.webhook_deliveries (webhook_id, event_id);
