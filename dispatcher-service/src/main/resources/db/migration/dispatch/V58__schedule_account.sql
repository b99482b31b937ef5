-- The account each waiting attempt belongs to, for the schedule's claim to serve accounts in turn (decision 0134):
-- claimed by due time alone, one account's half a million calls held for a calling window that opens at 09:00 kept
-- every other account's retries due a second later waiting until they had all been fired.
-- Generated from the command every writer already stores, so no statement that writes the table changes and a
-- dispatcher of the version before, during a rolling upgrade, writes rows the new claim sees. Adding it rewrites the
-- table under its exclusive lock (some seconds for a million rows): claims and new waits pause meanwhile.
ALTER TABLE dispatch.schedule
    ADD COLUMN account_id text COLLATE "C" NOT NULL
        GENERATED ALWAYS AS (COALESCE(command ->> 'account_id', '')) STORED;
