-- One row per HTTP delivery attempt: what was sent to which webhook, what came back and how long it took.
CREATE TABLE webhook.delivery_attempts (
    id           bigserial   PRIMARY KEY,
    event_id     text        NOT NULL,
    webhook_id   text        NOT NULL,
    account_id   text        NOT NULL,
    attempt_no   integer     NOT NULL,
    status_code  integer,
    error        text,
    latency_ms   bigint      NOT NULL,
    attempted_at timestamptz NOT NULL DEFAULT now()
);

-- The delivery log is read per webhook, newest first.
CREATE INDEX delivery_attempts_webhook_time ON webhook.delivery_attempts (webhook_id, attempted_at);
