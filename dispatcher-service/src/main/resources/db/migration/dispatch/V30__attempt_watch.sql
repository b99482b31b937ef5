-- The watchdog's view of the attempt ledger: which attempts reached the carrier, who is reconciling them, and
-- which ones the dialer cancelled itself.
ALTER TABLE dispatch.attempts
    -- Set just before the carrier is asked: from then on the attempt may ring someone, so it must be reconciled.
    ADD COLUMN carrier_asked_at timestamptz,
    -- Set while a dispatcher reconciles the attempt; a lapsed lease lets another take it over.
    ADD COLUMN watch_lease_until timestamptz,
    -- Set when the dialer itself asked the carrier to end the call: its 487 then means canceled, not no-answer.
    ADD COLUMN cancel_requested_at timestamptz;

-- Open attempts by age of their last news: what the watchdog scans.
CREATE INDEX attempts_open_by_news ON dispatch.attempts (updated_at)
    WHERE status IN ('queued', 'initiated', 'ringing', 'in-progress') AND carrier_asked_at IS NOT NULL;
