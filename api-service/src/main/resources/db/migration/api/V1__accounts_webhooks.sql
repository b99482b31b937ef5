CREATE TABLE api.accounts (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    default_region text NOT NULL DEFAULT 'IN',
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Keys are stored only as the hex SHA-256 of the token: a high-entropy random token needs no slow hash, and the
-- check runs on every request.
CREATE TABLE api.api_keys (
    key_hash   text PRIMARY KEY,
    account_id text NOT NULL REFERENCES api.accounts (id),
    label      text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api.webhooks (
    id          text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES api.accounts (id),
    url         text NOT NULL,
    description text,
    secret      text NOT NULL,
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhooks_account ON api.webhooks (account_id);
