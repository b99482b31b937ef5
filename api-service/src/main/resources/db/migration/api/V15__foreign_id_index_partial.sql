-- Calls are looked up by foreign_id only when one was given; most bulk sends carry none. A partial index skips those
-- rows, so a send's accept-time rows cost one index insertion less each (foreign_id = :x implies IS NOT NULL, so the
-- planner still uses it).
DROP INDEX api.calls_account_foreign_idx;
CREATE INDEX calls_account_foreign_idx ON api.calls (account_id, foreign_id) WHERE foreign_id IS NOT NULL;
