-- The status of the request's latest event, kept by every statement that stores one: an event that is not the
-- attempt's own transition (a deferral, a final decided by policy or by a cancel, an attempt's first event) carries it
-- as its previous_status.
ALTER TABLE dispatch.requests ADD COLUMN last_status text;

-- Requests still open: the status of their latest event still in the outbox, else of their latest attempt.
UPDATE dispatch.requests r
   SET last_status = latest.status
  FROM (SELECT DISTINCT ON (request_id) request_id, payload ->> 'status' AS status
          FROM dispatch.outbox ORDER BY request_id, sequence_number DESC) latest
 WHERE r.request_id = latest.request_id AND r.final_status IS NULL;

UPDATE dispatch.requests r
   SET last_status = latest.status
  FROM (SELECT DISTINCT ON (request_id) request_id, status
          FROM dispatch.attempts ORDER BY request_id, attempt_no DESC) latest
 WHERE r.request_id = latest.request_id AND r.final_status IS NULL AND r.last_status IS NULL;
