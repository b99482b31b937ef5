-- The schedule's claim takes due rows in a total order (due time, then request id byte by byte, then attempt), so a
-- tick's next claim can start after the last row the one before took instead of stepping again over every row the
-- tick has fired: deleted, those stay in the index until vacuum, and each was visited again with its table row.
CREATE INDEX schedule_claim_order ON dispatch.schedule (due_at, request_id COLLATE "C", attempt_no);
DROP INDEX dispatch.schedule_due_at;
