-- A delivery waiting for its next try keeps the W3C traceparent of its event's record, so that every try, the first
-- or a retry, is a span of the call's trace (a replay's: of the request that asked for it). Null for deliveries
-- stored before this column.
ALTER TABLE webhook.retries ADD COLUMN traceparent text;
