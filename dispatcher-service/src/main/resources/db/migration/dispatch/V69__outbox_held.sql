-- Events of a partition of dialer.call.events that took none within the relay's patience (decision 0169): every
-- relay leaves them until held_until, when they are read again, in their order.
ALTER TABLE dispatch.outbox ADD COLUMN held_until timestamptz;

-- The partitions of dialer.call.events found stalled, shared by every dispatcher's relay: one that did not find the
-- stall itself leaves their events without trying them first.
CREATE TABLE dispatch.stalled_event_partitions (
    partition_no  integer     PRIMARY KEY,
    stalled_until timestamptz NOT NULL
);
