-- GET /api/v2/calls?campaign=&status= lists a campaign's calls of one status, newest first (the example the API's
-- documentation gives). The campaign's index and the status's (V25, V28) each serve one of the two filters: the list
-- read one of them backwards and dropped every call the other filter did not take, so a rare status in a large
-- campaign (a few blocked calls among millions answered) read the whole campaign to fill a page, or to find it empty.
-- This index serves both, read backwards in the list's order without a sort, as the other list indexes are (decision
-- 0083). One index entry more for each call when its row is written and at each change of its status.
-- Built without blocking writes (CONCURRENTLY: Flyway runs the script outside a transaction); a build that was
-- interrupted leaves an invalid index under the name and no history row, so the script first drops what such a run
-- left.
DROP INDEX CONCURRENTLY IF EXISTS api.calls_account_campaign_status_idx;
CREATE INDEX CONCURRENTLY IF NOT EXISTS calls_account_campaign_status_idx
    ON api.calls (account_id, campaign, status, created_at, id);
