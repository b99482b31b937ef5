-- When the dispatcher first said a cancel of the call came too late (call.cancel_rejected): the call had ended, or it
-- was answered and left to talk. The call's status is not touched by it.
ALTER TABLE api.calls ADD COLUMN cancel_rejected_at timestamptz;
