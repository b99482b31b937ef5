-- GET /api/v2/webhooks/{id}/deliveries?outcome= lists a webhook's attempts of one outcome, newest first. The page
-- index (webhook_id, attempted_at, attempt_id) then read and dropped every attempt of another outcome, so a rare one
-- (the few dead attempts among a month of delivered ones) read the webhook's whole log. This index leads with the
-- outcome after the webhook and is read backwards in the page's order (attempted_at DESC, attempt_id DESC), without a
-- sort; ascending, as attempts arrive in rising attempted_at order and append at its right edge (decision 0083).
-- Built without blocking writes (CONCURRENTLY: Flyway runs the script outside a transaction); a build that was
-- interrupted leaves an invalid index under the name and no history row, so the script first drops what such a run
-- left.
DROP INDEX CONCURRENTLY IF EXISTS api.webhook_deliveries_outcome_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS webhook_deliveries_outcome_idx
    ON api.webhook_deliveries (webhook_id, outcome, attempted_at, attempt_id);
