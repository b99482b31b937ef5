-- Room on each page for the new versions of its rows: an attempt's row is changed five times within seconds of being
-- written, and a new version stays on its page only while the page has room. Applies to the pages the rewrite below
-- writes and to those written from then on.
ALTER TABLE dispatch.attempts SET (fillfactor = 50);
-- A request's row is changed at each event (its sequence number, its last status). Applies to pages written from now.
ALTER TABLE dispatch.requests SET (fillfactor = 70);

-- Whether the attempt is live (queued, or placed and not ended), kept by PostgreSQL from the status: what the indexes
-- of live attempts are built on instead of the status itself (V62, decision 0143). An update that changes a column an
-- index names, in its key or in its predicate, writes a new entry in every index of the table; one that changes no
-- such column stays on its page (a heap-only tuple) and writes none. The status changes at every carrier callback
-- (initiated, ringing, in-progress), but live only at the attempt's end.
-- Adding a stored generated column rewrites the table under an exclusive lock; the ledger's retention bounds its size.
ALTER TABLE dispatch.attempts
    ADD COLUMN live boolean NOT NULL
        GENERATED ALWAYS AS (status IN ('queued', 'initiated', 'ringing', 'in-progress')) STORED;
