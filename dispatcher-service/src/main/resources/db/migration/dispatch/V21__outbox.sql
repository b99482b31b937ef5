-- Call events waiting to be published to dialer.call.events. A row is written in the same transaction (or the same
-- statement) as the state change it reports, so a committed change always has its event; the relay publishes rows
-- in id order and marks them sent. Per request, ids follow sequence numbers: the row lock on dispatch.requests taken
-- to allocate a sequence number is held until the row's transaction commits.
CREATE TABLE dispatch.outbox (
    id              bigserial   PRIMARY KEY,
    event_id        text        NOT NULL UNIQUE,
    request_id      text        NOT NULL,
    event_type      text        NOT NULL,
    sequence_number bigint      NOT NULL,
    payload         jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);

-- What the relay reads: the unsent rows, oldest first.
CREATE INDEX outbox_unsent ON dispatch.outbox (id) WHERE sent_at IS NULL;
-- What the purge reads: sent rows past their retention.
CREATE INDEX outbox_sent_at ON dispatch.outbox (sent_at) WHERE sent_at IS NOT NULL;
