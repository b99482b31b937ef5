-- A delivery waiting for its next try keeps the W3C traceparent of its event's record, so that every try, the first
-- or a retry, is a span of the call's trace. Null for deliveries stored before this column, and for replays.
ALTER TABLE webhook.retries ADD COLUMN traceparent text;
