-- Where the records a caller ID's lane parked first arrived on its partition of dialer.call.commands: the lowest and
-- the highest offset since its parked records last all came back. A next owner of the partition tells a record read
-- again by them: one among them was parked and keeps its row's place, one older was held by the last owner and joins
-- the lane ahead of them (decision 0168). Null in rows written before, which say nothing of offsets.
ALTER TABLE dispatch.parked_lanes
    ADD COLUMN partition_no integer,
    ADD COLUMN first_offset bigint,
    ADD COLUMN last_offset bigint;
