-- A per-request hook's retries are held while its endpoint (scheme, host and port, as EndpointIsolation keys its
-- circuit) refuses tries. Held by their full URL, per-call hook URLs (https://app.example.com/status?call=<id>) were
-- each claimed and refused before they were held, and took the retry poller's capacity from other accounts' retries.
-- Set at insert for hook rows; webhook rows are held by their id, their URL being looked up before every try.
ALTER TABLE webhook.retries ADD COLUMN endpoint text;
