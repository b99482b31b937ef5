-- Which events each replay has queued. A replay is queued a page at a time, each page in its own transaction; a
-- replay request handled again (read again from Kafka after a failure or a restart) queues only the events it has
-- no mark for. Marks are purged after the events they name, which a request handled later cannot find any more.
CREATE TABLE webhook.replayed_events (
    replay_id text        NOT NULL,
    event_id  text        NOT NULL,
    queued_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (replay_id, event_id)
);
CREATE INDEX replayed_events_time ON webhook.replayed_events (queued_at);
