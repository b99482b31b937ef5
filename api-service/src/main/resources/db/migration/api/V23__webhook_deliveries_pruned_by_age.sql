-- The delivery log keeps attempts for dialer.api.deliveries.retention (30 days): the pruner deletes older ones in
-- batches, each found through this index instead of a scan of the whole log.
CREATE INDEX webhook_deliveries_attempted_idx ON api.webhook_deliveries (attempted_at);
