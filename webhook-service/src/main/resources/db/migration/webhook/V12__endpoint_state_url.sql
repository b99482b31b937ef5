-- The URL a webhook's consecutive failures were counted against: a failure at another URL (the account moved the
-- webhook) starts the count again, so a new URL is never disabled for its predecessor's failures. Null on rows counted
-- before this column: their count goes on, and takes the URL of their next failure.
ALTER TABLE webhook.endpoint_state ADD COLUMN url text;
