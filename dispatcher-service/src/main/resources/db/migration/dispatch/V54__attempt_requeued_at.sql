-- When the attempt was last requeued (after a capacity rejection, or because no carrier placed it): from then on no
-- dial of it is in flight. A slot held under its key and taken before then is a lost release's; one taken since is
-- the next dial's. updated_at cannot tell: the watchdog's checks and late callbacks move it too. Null for attempts
-- requeued before it was recorded, which fall back to updated_at.
ALTER TABLE dispatch.attempts ADD COLUMN requeued_at timestamptz;
