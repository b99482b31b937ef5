-- Each account's dialling settings as the AccountSettings contract JSON (what dialer.account.config carries).
CREATE TABLE api.account_settings (
    account_id text        PRIMARY KEY REFERENCES api.accounts (id),
    settings   text        NOT NULL,
    updated_at timestamptz NOT NULL
);
