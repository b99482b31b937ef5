-- The per-callee cap counts an account's calls to one number by when the carrier was asked for them
-- (dispatch.attempts.carrier_asked_at, set by the claim), not by when their attempts were recorded: an attempt may
-- wait hours between the two (a calling window, a capacity requeue). The index on created_at served only the old
-- count; the new one reads each request's few attempts by their primary key.
DROP INDEX IF EXISTS dispatch.attempts_created_at;
