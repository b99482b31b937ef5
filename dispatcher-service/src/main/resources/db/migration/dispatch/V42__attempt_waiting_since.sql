-- When a requeued attempt's wait for a carrier (capacity, none reachable) began, if a dial-time policy wait (a calling
-- window, a paused campaign, the callee's cap) came in between: the longest such wait is counted from here, not from
-- when the attempt was first queued. Null: from created_at.
ALTER TABLE dispatch.attempts ADD COLUMN waiting_since timestamptz;
