-- An event's delivery to one target waits in the table at most once. A call event can be handled twice (its record
-- read again after a restart or a rebalance before it was acknowledged, or published twice by the dispatcher's
-- outbox); each handling used to store its own retry, and the target got the event from two retry chains.
-- Replays are apart: each replay queues its own row on purpose.
DELETE FROM webhook.retries r
 USING webhook.retries k
 WHERE NOT r.replay AND NOT k.replay
   AND r.event_id = k.event_id AND r.target_kind = k.target_kind AND r.target_id = k.target_id
   AND coalesce(r.url, '') = coalesce(k.url, '')
   AND r.id > k.id;
CREATE UNIQUE INDEX retries_one_per_target
    ON webhook.retries (event_id, target_kind, target_id, coalesce(url, '')) WHERE NOT replay;
