-- The request a request's control (a cancel) names, so that the control's row is deleted with the request by the
-- ledger's retention (decision 0164): a cancel's record is gone from the compacted controls topic within about an hour
-- of the request's end (the cancel sweep's tombstone), and nothing reads its row after that. Empty for a campaign's
-- controls, whose latest record stays on the topic, and for the rows of controls settled before this script (they
-- stay). Nullable and without a default: no table rewrite.
ALTER TABLE dispatch.applied_controls ADD COLUMN request_id text;
