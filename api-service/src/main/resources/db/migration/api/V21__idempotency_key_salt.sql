-- A random salt drawn when an Idempotency-Key is claimed, and drawn anew when an expired key is claimed again. The
-- call ids derived from the key include it: a retry within the key's 24 hours finds it and reproduces the ids, a
-- reuse after them gets new ids (the dispatcher keeps the first command per id for ever, so reused ids would be
-- dropped as duplicates behind a 200). Keys claimed before this column have none, and their ids keep the derivation
-- without a salt, so a key in flight during the upgrade keeps its ids.
ALTER TABLE api.idempotency_keys ADD COLUMN salt text;
