-- Events of a partition of dialer.call.events that took none within the relay's patience (decision 0169): every
-- relay leaves them, and the events of their requests written after them, until the partition takes events again.
-- held_partition names the partition they were held for; NULL: free to publish. A nullable column without a default:
-- no rewrite of the table; its indexes are built in V70 without blocking writes.
ALTER TABLE dispatch.outbox ADD COLUMN held_partition integer;

-- The partitions of dialer.call.events found stalled, shared by every dispatcher's relay: one that did not find the
-- stall itself holds their events without trying them first. A row whose stalled_until has passed is a partition
-- whose oldest held events are tried again; it is deleted once none of its events is held.
CREATE TABLE dispatch.stalled_event_partitions (
    partition_no  integer     PRIMARY KEY,
    stalled_until timestamptz NOT NULL
);
