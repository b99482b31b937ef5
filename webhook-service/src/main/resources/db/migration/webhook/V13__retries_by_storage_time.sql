-- The retry poller gives up the rows of an endpoint that refuses tries once they have waited longer than the retry
-- schedule can last, the oldest first, a batch at a time; the index finds them without reading the rest of the table.
CREATE INDEX retries_stored ON webhook.retries (created_at);
