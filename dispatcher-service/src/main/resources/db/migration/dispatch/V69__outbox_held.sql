-- Events of a partition of dialer.call.events that took none within the relay's patience (decision 0169): every
-- relay leaves them, and the events of their requests written after them, until the partition takes events again.
-- held_partition names the partition they were held for; NULL: free to publish.
ALTER TABLE dispatch.outbox ADD COLUMN held_partition integer;

-- What the relay reads: the unsent rows not held, oldest first (held rows stay out of its way however many they are).
CREATE INDEX outbox_unsent_free ON dispatch.outbox (id) WHERE sent_at IS NULL AND held_partition IS NULL;
-- A stalled partition's held rows, oldest first: tried again a batch at a time, released together once it takes events.
CREATE INDEX outbox_held ON dispatch.outbox (held_partition, id) WHERE held_partition IS NOT NULL;
-- Whether an event's request has an earlier event held: it is held behind it.
CREATE INDEX outbox_held_requests ON dispatch.outbox (request_id, id) WHERE held_partition IS NOT NULL;

-- The partitions of dialer.call.events found stalled, shared by every dispatcher's relay: one that did not find the
-- stall itself holds their events without trying them first. A row whose stalled_until has passed is a partition
-- whose oldest held events are tried again; it is deleted once the partition takes events.
CREATE TABLE dispatch.stalled_event_partitions (
    partition_no  integer     PRIMARY KEY,
    stalled_until timestamptz NOT NULL
);
