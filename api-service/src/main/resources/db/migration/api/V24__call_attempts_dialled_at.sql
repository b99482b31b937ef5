-- When the attempt was first dialled: the time of its first status after queued (initiated, ringing, in-progress or
-- a terminal one). The per-callee cap counts attempts from their dial, as the dispatcher does (carrier_asked_at,
-- decision 0074), not from started_at, the first queued event, which may be hours earlier. Null until then: an
-- attempt never dialled is not counted.
ALTER TABLE api.call_attempts ADD COLUMN dialled_at timestamptz;

-- Attempts recorded before this column: their earliest event is the best known bound on their dial.
UPDATE api.call_attempts SET dialled_at = started_at WHERE status <> 'queued';

DROP INDEX api.call_attempts_callee_idx;
CREATE INDEX call_attempts_callee_dialled_idx ON api.call_attempts (account_id, callee, dialled_at)
    WHERE dialled_at IS NOT NULL;
