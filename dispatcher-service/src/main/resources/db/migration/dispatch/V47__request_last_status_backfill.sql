-- Requests open when dispatch.requests.last_status came (V45) get the status of their latest event still in the
-- outbox, else of their latest attempt, so their next deferral or final carries a previous_status too.
UPDATE dispatch.requests r
   SET last_status = latest.status
  FROM (SELECT DISTINCT ON (request_id) request_id, payload ->> 'status' AS status
          FROM dispatch.outbox ORDER BY request_id, sequence_number DESC) latest
 WHERE r.request_id = latest.request_id AND r.final_status IS NULL AND r.last_status IS NULL;

UPDATE dispatch.requests r
   SET last_status = latest.status
  FROM (SELECT DISTINCT ON (request_id) request_id, status
          FROM dispatch.attempts ORDER BY request_id, attempt_no DESC) latest
 WHERE r.request_id = latest.request_id AND r.final_status IS NULL AND r.last_status IS NULL;
