-- When each webhook was last enabled (created enabled, or enabled again by its account), apart from its last change:
-- a disable webhook-service made after it stands, whatever else changed since (decision 0136). Before, any change
-- after the disable's observation (an edit of the description, made before api-service had heard of the disable)
-- lifted it on both sides.
ALTER TABLE api.webhooks ADD COLUMN enabled_at timestamptz;
-- The webhooks enabled now: since their last change at the latest, which is what they were read as before, so that
-- from their next change on, an edit no longer moves it.
UPDATE api.webhooks SET enabled_at = updated_at WHERE enabled;
