-- Accounts, their API keys and their webhook endpoints. Every name is schema-qualified: the three services share
-- one database and their connection pools.

CREATE TABLE api.accounts (
    id             text        PRIMARY KEY,
    name           text        NOT NULL,
    default_region text        NOT NULL DEFAULT 'IN',
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Only the hex SHA-256 of a key is kept: keys are 256-bit random tokens, so a fast hash is as safe as a slow one
-- and keeps the per-request check cheap.
CREATE TABLE api.api_keys (
    key_hash   text        PRIMARY KEY,
    account_id text        NOT NULL REFERENCES api.accounts (id),
    label      text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX api_keys_account_idx ON api.api_keys (account_id);

-- The secret stays readable: webhook-service signs every delivery with it (it travels on dialer.webhook.config).
CREATE TABLE api.webhooks (
    id          text        PRIMARY KEY,
    account_id  text        NOT NULL REFERENCES api.accounts (id),
    url         text        NOT NULL,
    description text,
    secret      text        NOT NULL,
    enabled     boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhooks_account_idx ON api.webhooks (account_id);
