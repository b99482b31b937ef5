-- When each webhook was last enabled (created enabled, or enabled again by its account), apart from its last change:
-- a disable webhook-service made after it stands, whatever else changed since (decision 0136). Before, any change
-- after the disable's observation (an edit of the description, made before api-service had heard of the disable)
-- lifted it on both sides. Unknown for the webhooks there are: null, read as their last change, as before.
ALTER TABLE api.webhooks ADD COLUMN enabled_at timestamptz;
