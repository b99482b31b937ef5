-- Call events dialer.call.events can never take (larger than a record it accepts): moved here by the relay, with why,
-- rather than left at the head of the outbox, where every relay round would fail on them and no other event would be
-- published again. Kept for operators to read; nothing deletes them.
CREATE TABLE dispatch.outbox_rejected (
    id              bigint      PRIMARY KEY,
    event_id        text        NOT NULL,
    request_id      text        NOT NULL,
    event_type      text        NOT NULL,
    sequence_number bigint      NOT NULL,
    payload         jsonb       NOT NULL,
    created_at      timestamptz NOT NULL,
    rejected_at     timestamptz NOT NULL DEFAULT now(),
    reason          text        NOT NULL
);
