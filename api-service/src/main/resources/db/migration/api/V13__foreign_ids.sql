-- foreign_id de-duplication: one request per account, client reference and callee. Claimed in the transaction that
-- commits only after Kafka acknowledged the request's commands, so a request that failed leaves no claim behind.
CREATE TABLE api.foreign_ids (
    account_id text        NOT NULL REFERENCES api.accounts (id),
    foreign_id text        NOT NULL,
    callee     text        NOT NULL,
    request_id text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, foreign_id, callee)
);
