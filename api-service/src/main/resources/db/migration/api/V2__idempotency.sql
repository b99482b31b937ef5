-- Idempotency-Key records, per account, kept 24 h. The row is claimed before anything is produced; the response is
-- stored once Kafka acknowledged, and replayed for a repeat with the same body.
CREATE TABLE api.idempotency_keys (
    account_id  text        NOT NULL REFERENCES api.accounts (id),
    key         text        NOT NULL,
    body_sha256 text        NOT NULL,
    response    text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, key)
);

CREATE INDEX idempotency_keys_created ON api.idempotency_keys (created_at);
