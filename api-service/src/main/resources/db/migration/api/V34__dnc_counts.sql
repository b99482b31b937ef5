-- How many entries each account's DNC list holds, which the limit check of a change adding numbers
-- (dialer.api.limits.dnc-per-account) reads as one row instead of counting up to the limit's million rows on every
-- opt-out (decision 0155). Every change of api.dnc moves it in its own transaction, by the rows its statements
-- inserted less those they deleted, as its last statement. An account without a row holds none.
CREATE TABLE api.dnc_counts (
    account_id text   PRIMARY KEY REFERENCES api.accounts (id),
    entries    bigint NOT NULL
);
-- The lists as they are. Changes made meanwhile by instances of the previous version, which do not move the count,
-- are not in it (decision 0155 says how to count an account again).
INSERT INTO api.dnc_counts (account_id, entries)
SELECT account_id, count(*) FROM api.dnc GROUP BY account_id;
