-- How many times the attempt was claimed for dialling: 1 for its first dial, one more each time it is dialled again
-- under the same number after the carrier took no call (a capacity rejection, no carrier reachable). The create-call
-- request's tag carries it, so a callback of an earlier dial (a repeated or late capacity rejection) can be told from
-- one of the current dial, and never requeues, moves or ends the attempt the current dial is ringing.
ALTER TABLE dispatch.attempts ADD COLUMN dial_no integer NOT NULL DEFAULT 0;
