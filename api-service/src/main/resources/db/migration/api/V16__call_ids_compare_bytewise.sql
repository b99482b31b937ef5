-- Call ids, account ids and campaign names are identifiers: they are compared for equality and ordered only to page
-- (created_at, id). Under the database's linguistic collation every B-tree comparison of them goes through
-- strcoll() and a tie-breaking strcmp(); under "C" it is one memcmp(). The three indexes of api.calls compare them
-- on every accepted row. Hex UUIDs sort the same either way, so cursors handed out before stay valid.
-- This rebuilds the indexes of both tables under an exclusive lock: on a large read model, run it in a quiet hour.
ALTER TABLE api.call_attempts ALTER COLUMN call_id TYPE text COLLATE "C";
ALTER TABLE api.calls ALTER COLUMN id TYPE text COLLATE "C",
    ALTER COLUMN account_id TYPE text COLLATE "C",
    ALTER COLUMN campaign TYPE text COLLATE "C";
