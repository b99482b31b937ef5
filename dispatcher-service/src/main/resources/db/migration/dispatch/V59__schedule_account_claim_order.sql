-- The schedule's rows by account, each account's in the order its claim takes them (decision 0134): the walk over
-- the accounts with due rows reads one entry per account, and each account's share of a claim reads only its due rows.
-- Built without blocking writes (CONCURRENTLY: Flyway runs this script outside a transaction). A build whose process
-- stopped leaves an invalid index under this name and no history row, so the script runs again from the start: it
-- first drops what such a run left, which IF NOT EXISTS would otherwise keep. A build that failed with an error is
-- recorded as failed, and the service does not start until `flyway repair` has removed that record.
DROP INDEX CONCURRENTLY IF EXISTS dispatch.schedule_account_claim_order;
CREATE INDEX CONCURRENTLY IF NOT EXISTS schedule_account_claim_order
    ON dispatch.schedule (account_id, due_at, request_id COLLATE "C", attempt_no);
