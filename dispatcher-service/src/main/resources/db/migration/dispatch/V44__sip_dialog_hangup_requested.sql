-- A cancel is acted on by whichever dispatcher claims it first, which may not be the one holding the SIP call: that
-- dispatcher marks the kept call here, and the holder hangs it up on its next lease renewal.
ALTER TABLE dispatch.sip_dialogs ADD COLUMN hangup_requested_at timestamptz;
