-- The try that disabled a webhook, as published on dialer.webhook.deliveries (a DeliveryAttempt with
-- endpoint_disabled), written with the disable and kept until the broker has acknowledged it: api-service learns of a
-- disable only from that record, so it must not be lost to a broker outage or a crash right after the disable.
ALTER TABLE webhook.endpoint_state ADD COLUMN announcement bytea;
