-- Whether another try of the same request found the claim and went on under its salt (a retry while the first try
-- still runs, or after it failed). That try may produce under the claim's ids, so a refusal of the try that made the
-- claim no longer gives the key up: claimed afresh, with a new salt, a third try would queue the recipients again
-- under other ids.
ALTER TABLE api.idempotency_keys ADD COLUMN joined boolean NOT NULL DEFAULT false;
