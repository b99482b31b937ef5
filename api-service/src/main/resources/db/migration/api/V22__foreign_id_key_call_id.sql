-- A foreign_id's call id is derived from the account, the foreign_id and the number whether the request has an
-- Idempotency-Key or not (decision 0069), so a claim's request_id no longer tells a keyed request's earlier try from
-- another request. The claim keeps the id the key derives for its recipient instead: a retry under the same key
-- finds it and counts the claim as its own. Null for a request without a key, and for claims made before this column
-- (a retry of such a keyed request is answered as a duplicate of the call its first try queued).
ALTER TABLE api.foreign_ids ADD COLUMN key_call_id text;
