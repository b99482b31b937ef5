-- A change of an account's DNC list owes Kafka the committed state of every number it touched (decision 0129,
-- amended): one row per change (kind dnc, object_id the account's id), naming its numbers here, rather than one row
-- per number, so an import of 10,000 numbers writes and deletes one row and is restated in one transaction. NULL for
-- every other kind, whose object_id names the object alone.
ALTER TABLE api.owed_states ADD COLUMN numbers text[] COLLATE "C";
