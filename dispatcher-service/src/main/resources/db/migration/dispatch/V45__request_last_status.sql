-- The status of the request's latest event, kept by every statement that stores one: an event that is not the
-- attempt's own transition (a deferral, a final decided by policy or by a cancel, an attempt's first event) carries it
-- as its previous_status. Null for requests whose latest event came before this column.
ALTER TABLE dispatch.requests ADD COLUMN last_status text;
