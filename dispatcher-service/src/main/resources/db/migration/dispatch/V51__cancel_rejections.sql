-- The call.cancel_rejected events stored, by id (derived from the control and the request, decision 0059). The
-- statement that stores such an event records its id here and stores nothing when the id is here already, so a
-- control acted on again adds no second event. The outbox's unique event_id did this while published rows were kept;
-- they are deleted now (decision 0102). A row goes with its request (decision 0103).
CREATE TABLE dispatch.cancel_rejections (
    event_id   text        PRIMARY KEY,
    request_id text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- What the cascade reads when a request is deleted.
CREATE INDEX cancel_rejections_request ON dispatch.cancel_rejections (request_id);

-- The rejections stored before, as far as the outbox still holds them. Read before the foreign key exists: adding it
-- locks dispatch.requests against writes until this script commits, and the outbox may be large (it kept published
-- events an hour), so the lock is taken last, for checking this small table only.
INSERT INTO dispatch.cancel_rejections (event_id, request_id, created_at)
SELECT o.event_id, o.request_id, o.created_at
  FROM dispatch.outbox o
 WHERE o.event_type = 'call.cancel_rejected'
   AND EXISTS (SELECT 1 FROM dispatch.requests r WHERE r.request_id = o.request_id)
ON CONFLICT (event_id) DO NOTHING;

ALTER TABLE dispatch.cancel_rejections
    ADD CONSTRAINT cancel_rejections_request_fkey
    FOREIGN KEY (request_id) REFERENCES dispatch.requests (request_id) ON DELETE CASCADE;
