-- The indexes V62 replaced (decision 0143). In a script of its own, so that a run stopped here never drops V62's
-- indexes again on its rerun: the rule of one live attempt a request holds throughout the upgrade.
-- Without blocking writes (CONCURRENTLY: Flyway runs this script outside a transaction).
DROP INDEX CONCURRENTLY IF EXISTS dispatch.attempts_one_live;
DROP INDEX CONCURRENTLY IF EXISTS dispatch.attempts_open_by_news;
