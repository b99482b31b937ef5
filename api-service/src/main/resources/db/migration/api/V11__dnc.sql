-- Each account's do-not-call list; every change is also published on the compacted dialer.dnc topic.
CREATE TABLE api.dnc (
    account_id text        NOT NULL REFERENCES api.accounts (id),
    number     text        NOT NULL,
    reason     text,
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, number)
);
